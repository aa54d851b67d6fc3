/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for src/store/s3xml.c: what the S3 store reads out of server answers. */
#include "harness.h"

#include "base/err.h"
#include "store/s3xml.h"

#include <stdlib.h>

struct keys {
	char key[4][1100];
	uint64_t size[4];
	int n;
	int stop_at; /* return -ECANCELED at this key (1-based), 0: never */
};

static int add_key(void *ctx, const char *key, uint64_t size)
{
	struct keys *k = ctx;

	if (k->n < 4) {
		snprintf(k->key[k->n], sizeof(k->key[0]), "%s", key);
		k->size[k->n] = size;
	}
	k->n++;
	return k->n == k->stop_at ? -ECANCELED : 0;
}

static char *corpus(const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/s3_xml/%s", lb_test_srcdir(), name);
	return (char *)lb_test_read_file(path, len);
}

static void test_list_decodes_keys_sizes_token(void)
{
	struct keys k = {0};
	struct lb_s3_list_page page;
	size_t len;
	char *x = corpus("aws-style-list.xml", &len);

	CHECK(x != NULL);
	if (!x)
		return;
	CHECK_INT(lb_s3_parse_list(x, len, add_key, &k, &page), 0);
	CHECK_INT(k.n, 2);
	CHECK_STR(k.key[0], "repo/a&b<>\"'\xc3\xa9\xf0\x9f\x98\x80");
	CHECK_U64(k.size[0], 0);
	CHECK_STR(k.key[1], "repo/cdata<key>");
	CHECK_U64(k.size[1], UINT64_MAX);
	CHECK(page.truncated);
	CHECK_STR(page.token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	CHECK_INT(page.keys, 2);
	/* the callback's error stops the parse and comes back */
	memset(&k, 0, sizeof(k));
	k.stop_at = 1;
	CHECK_INT(lb_s3_parse_list(x, len, add_key, &k, &page), -ECANCELED);
	CHECK_INT(k.n, 1);
	free(x);
}

static void test_list_from_rgw(void)
{
	struct keys k = {0};
	struct lb_s3_list_page page;
	size_t len;
	char *x = corpus("rgw-list-empty.xml", &len);

	CHECK(x != NULL);
	if (!x)
		return;
	CHECK_INT(lb_s3_parse_list(x, len, add_key, &k, &page), 0);
	CHECK_INT(k.n, 0);
	CHECK(!page.truncated);
	free(x);
	x = corpus("rgw-list-truncated.xml", &len);
	CHECK(x != NULL);
	if (!x)
		return;
	CHECK_INT(lb_s3_parse_list(x, len, add_key, &k, &page), 0);
	CHECK_INT(k.n, 2);
	CHECK(page.truncated && page.token[0]);
	free(x);
}

static void test_list_refuses_what_it_cannot_use(void)
{
	static const char *bad[] = {
		"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></"
		"ListBucketResult>",
		"<ListBucketResult><Contents><Key>k</Key><Size>18446744073709551616</Size>"
		"</Contents></ListBucketResult>",
		"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
		"<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
		"<Error><Code>AccessDenied</Code></Error>",
	};
	struct lb_s3_list_page page;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(lb_s3_parse_list(bad[i], strlen(bad[i]), NULL, NULL, &page), -EBADMSG);
}

static void test_error_body(void)
{
	struct lb_s3_error e;
	size_t len;
	char *x = corpus("rgw-error-nosuchbucket.xml", &len);
	const char *other = "<ListBucketResult></ListBucketResult>";

	CHECK(x != NULL);
	if (!x)
		return;
	CHECK_INT(lb_s3_parse_error(x, len, &e), 1);
	CHECK_STR(e.code, "NoSuchBucket");
	CHECK_STR(e.message, "");
	free(x);
	x = corpus("aws-complete-error-in-200.xml", &len);
	CHECK(x != NULL);
	if (!x)
		return;
	CHECK_INT(lb_s3_parse_error(x, len, &e), 1);
	CHECK_STR(e.code, "InternalError");
	CHECK_STR(e.message, "We encountered an internal error. Please try again.");
	free(x);
	CHECK_INT(lb_s3_parse_error(other, strlen(other), &e), 0);
	CHECK_INT(lb_s3_parse_error("<Error>", 7, &e), -EBADMSG);
}

static void test_upload_id(void)
{
	char id[64], small[8];
	size_t len;
	char *x = corpus("rgw-initiate-upload.xml", &len);
	const char *none =
		"<InitiateMultipartUploadResult><UploadId/></InitiateMultipartUploadResult>";

	CHECK(x != NULL);
	if (!x)
		return;
	CHECK_INT(lb_s3_parse_upload_id(x, len, id, sizeof(id)), 0);
	CHECK(strlen(id) > 8);
	CHECK_INT(lb_s3_parse_upload_id(x, len, small, sizeof(small)), -EBADMSG);
	CHECK_INT(lb_s3_parse_upload_id(none, strlen(none), id, sizeof(id)), -EBADMSG);
	free(x);
}

LB_TEST_MAIN(T(test_list_decodes_keys_sizes_token), T(test_list_from_rgw),
	     T(test_list_refuses_what_it_cannot_use), T(test_error_body), T(test_upload_id))
