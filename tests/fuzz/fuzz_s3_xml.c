/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_s3_xml.c - the XML reader for S3 responses (src/store/s3xml.c) and
 * the three documents read with it: error bodies, ListObjectsV2 pages,
 * CreateMultipartUpload answers. Returns the generic parse's result, so a
 * known-bad input is one that is not well-formed in our subset of XML.
 */
#include "fuzz.h"

#include "store/s3xml.h"

static int check_event(void *ctx, enum lb_xml_event ev, const char *path, const char *text,
		       size_t len)
{
	(void)ctx;
	LB_FUZZ_ASSERT(strlen(path) <= LB_XML_MAX_DEPTH * (LB_XML_MAX_NAME + 1));
	if (ev == LB_XML_CLOSE) {
		LB_FUZZ_ASSERT(text != NULL);
		LB_FUZZ_ASSERT(len <= LB_XML_MAX_TEXT);
		LB_FUZZ_ASSERT(strlen(text) == len);
	}
	return 0;
}

static int check_key(void *ctx, const char *key, uint64_t size)
{
	(void)ctx;
	(void)size;
	LB_FUZZ_ASSERT(strlen(key) > 0 && strlen(key) <= 1024);
	return 0;
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct lb_s3_error e;
	struct lb_s3_list_page page;
	char id[512];
	if (lb_s3_parse_error(p, size, &e) >= 0) {
		LB_FUZZ_TERMINATED(e.code);
		LB_FUZZ_TERMINATED(e.message);
	}
	if (lb_s3_parse_list(p, size, check_key, NULL, &page) == 0) {
		LB_FUZZ_TERMINATED(page.token);
		LB_FUZZ_ASSERT(!page.truncated || page.token[0]);
	}
	if (lb_s3_parse_upload_id(p, size, id, sizeof(id)) == 0)
		LB_FUZZ_ASSERT(id[0] && memchr(id, 0, sizeof(id)));
	/* last, so that the recorded error is this one's */
	return lb_xml_parse(p, size, check_event, NULL);
}

LB_FUZZ_TARGET
