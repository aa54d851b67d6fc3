/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s3xml.h - the XML that S3 servers send back, read by our own small,
 * bounds-checked parser: error bodies, ListObjectsV2 pages, the upload ID of
 * CreateMultipartUpload. The bytes come from the network: nothing here
 * trusts them (every length is capped, every string terminated, malformed
 * input is -EBADMSG, never a crash).
 *
 * What the reader accepts (enough for S3 responses, nothing more): an
 * optional <?xml ...?> declaration, comments, elements with attributes (read
 * and ignored), self-closing elements, text with the five predefined
 * entities and numeric character references, CDATA sections. Refused:
 * DOCTYPE (no entity expansion at all), a closing tag that does not match,
 * nesting deeper than LB_XML_MAX_DEPTH, a name longer than LB_XML_MAX_NAME,
 * the text of one element longer than LB_XML_MAX_TEXT, anything after the
 * root element but whitespace and comments, a NUL byte.
 */
#ifndef LB_STORE_S3XML_H
#define LB_STORE_S3XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_XML_MAX_DEPTH 16
#define LB_XML_MAX_NAME 64
#define LB_XML_MAX_TEXT 4096
#define LB_XML_MAX_INPUT (64u << 20)

enum lb_xml_event {
	LB_XML_OPEN,  /* an element starts: @path is its path, @text NULL */
	LB_XML_CLOSE, /* an element ends: @text is its text content (decoded; "" if none) */
};

/*
 * Called for each element; @path is "Root/Child/Leaf" (NUL-terminated),
 * @text is NUL-terminated, @len its length (it may hold no NUL: a character
 * reference to U+0000 is refused). For an element that has children, @text
 * is only what follows its last child (S3 documents put text in leaves
 * only). A negative return stops the parse and is returned.
 */
typedef int (*lb_xml_fn)(void *ctx, enum lb_xml_event ev, const char *path, const char *text,
			 size_t len);

/* Parse @data (@len bytes). Returns 0, -EBADMSG (recorded), -ENOMEM, or what @fn returned. */
int lb_xml_parse(const char *data, size_t len, lb_xml_fn fn, void *ctx);

/* An S3 error body: <Error><Code>..</Code><Message>..</Message></Error>. */
struct lb_s3_error {
	char code[64];	   /* "" if none */
	char message[256]; /* cut to fit */
};
/* Returns 1 (it is an error body), 0 (it is some other document), -EBADMSG. */
int lb_s3_parse_error(const char *data, size_t len, struct lb_s3_error *e);

/* One ListObjectsV2 page: @fn is called for each <Contents> with its key and size. */
typedef int (*lb_s3_list_fn)(void *ctx, const char *key, uint64_t size);
struct lb_s3_list_page {
	bool truncated;
	char token[1024]; /* NextContinuationToken; "" if none */
	size_t keys;	  /* <Contents> seen */
};
/*
 * Returns 0, -EBADMSG (not a ListBucketResult; a <Contents> without a key or
 * with a bad size; truncated without a token; a token or key too long), or
 * what @fn returned.
 */
int lb_s3_parse_list(const char *data, size_t len, lb_s3_list_fn fn, void *ctx,
		     struct lb_s3_list_page *page);

/* InitiateMultipartUploadResult/UploadId. Returns 0 or -EBADMSG (missing, empty, too long). */
int lb_s3_parse_upload_id(const char *data, size_t len, char *id, size_t cap);

#endif
