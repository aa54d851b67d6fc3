/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s3.c - a store in S3-compatible object storage (AWS S3, Ceph RGW), through
 * libcurl. See docs/s3.md for configuration and consistency.
 *
 *  - s3://BUCKET/PREFIX: the object "a/b" is the key "PREFIX/a/b";
 *  - endpoint: lb_store_set_s3_endpoint() (--s3-endpoint), else
 *    AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else https://s3.REGION.amazonaws.com;
 *    path-style addressing (ENDPOINT/BUCKET/KEY) unless
 *    LIFEBOAT_S3_ADDRESSING=virtual (BUCKET.HOST/KEY);
 *  - every request is signed by libcurl (CURLOPT_AWS_SIGV4); we set
 *    x-amz-content-sha256 to the body's SHA-256, so the server checks the
 *    bytes it stores;
 *  - create-only: PUT with If-None-Match: * (412: -EEXIST). RGW ignores
 *    that header on a multipart upload's completion (AWS honours it), so
 *    commit also checks with HEAD first; two writers completing the same name in the same instant can
 *    both succeed (the later one wins). Pack names are random, so this
 *    never happens for packs; small objects are single PUTs, truly
 *    create-only;
 *  - retries with exponential backoff and jitter on connection failures,
 *    timeouts, 5xx, 429, SlowDown, RequestTimeout; never on other 4xx;
 *  - threads: any thread may call in (restore reads from the worker pool);
 *    idle CURL handles are kept (each keeps its connections alive) and DNS
 *    and TLS sessions are shared; a streaming writer hands full parts to a
 *    few upload threads, so one slow request does not stall the backup.
 */
#include "store/store_int.h"
#include "store/s3xml.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/sha256.h"
#include "base/util.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define PART_SIZE (8u << 20) /* multipart part size (S3: at least 5 MiB but the last) */
#define MAX_PARTS 10000	     /* S3's limit */
#define UPLOAD_THREADS 3     /* part uploads in flight, for the whole store */
#define PARTS_PER_WRITER 3   /* parts one writer may have in flight (memory: 3 x 8 MiB) */
#define IDLE_HANDLES 16
#define RESP_MAX (64u << 10)	  /* an error or small answer */
#define LIST_RESP_MAX (16u << 20) /* a listing page (1000 keys) */
#define DEFAULT_RETRIES 10
#define DEFAULT_TIMEOUT 60 /* seconds */
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 10000

#define HINT_CREDS                                                                                 \
	"check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) and the endpoint " \
	"(--s3-endpoint or AWS_ENDPOINT_URL)"
#define HINT_BUCKET "create the bucket, or check the bucket name and the endpoint"
#define HINT_NET \
	"check that the S3 endpoint is up and reachable (--s3-endpoint or AWS_ENDPOINT_URL)"

static const char *opt_endpoint;

void lb_store_set_s3_endpoint(const char *url)
{
	opt_endpoint = url && *url ? url : NULL;
}

struct part;

struct s3 {
	char *endpoint; /* scheme://host[:port], no trailing slash */
	char *bucket;
	char *prefix; /* "" or "dir/sub/" */
	bool virtual_host;
	char sigv4[96];
	char region[48];
	char *access_key, *secret_key, *token_hdr;
	const char *ca_bundle; /* AWS_CA_BUNDLE, or NULL: libcurl's default */
	int retries;
	int page_keys; /* keys a listing page asks for: 1000, or LIFEBOAT_S3_LIST_PAGE (tests) */
	long timeout;  /* seconds without a byte moving: the request failed */
	CURLSH *share;
	pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
	pthread_mutex_t mu; /* idle handles, the part queue */
	CURL *idle[IDLE_HANDLES];
	size_t nidle;
	pthread_cond_t qcv;
	struct part *qhead, *qtail;
	pthread_t threads[UPLOAD_THREADS];
	int nthreads;
	bool stopping;
};

/* One HTTP request and what came back. */
struct req {
	const char *method; /* GET HEAD PUT POST DELETE */
	const char *key;    /* the full key, NULL for the bucket */
	const char *query;  /* sorted and encoded, or NULL */
	const void *body;
	size_t body_len;
	const char *hdrs[3]; /* extra headers */
	/* a ranged GET into a buffer */
	uint8_t *dst;
	size_t dst_len;
	uint64_t off;
	size_t resp_max;
	/* results */
	long status;
	struct lb_buf resp;
	uint64_t clen;	      /* Content-Length */
	uint64_t range_start; /* Content-Range: bytes START-... */
	size_t got;	      /* bytes written into dst */
	uint64_t skip;	      /* bytes of a 200 answer before off */
	size_t rpos;	      /* upload position */
	struct lb_s3_error err;
	char etag[160];
	bool error_in_200; /* a 200 may carry an <Error> (CompleteMultipartUpload) */
	bool resp_overflow;
	bool have_clen;
	bool have_range;
	bool ambiguous; /* an earlier attempt may have reached the server */
	bool enough;	/* a GET stopped early: the range asked for is in dst */
	bool have_err;
};

struct s3_writer {
	struct lb_store_writer base;
	char *name, *key;
	uint8_t *buf;
	size_t len;
	char upload_id[512];
	int nparts;
	char (*etags)[160];
	uint64_t total;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int inflight;
	int err;
	struct lb_error err_rec;
	bool aborted;
};

struct part {
	struct part *next;
	struct s3_writer *w;
	int no; /* 1-based */
	uint8_t *data;
	size_t len;
};

static struct s3 *S3(struct lb_store *s)
{
	return s->priv;
}

/* ---- helpers ------------------------------------------------------------------------- */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* Percent-encode @s into @b: all but unreserved characters (and '/' if @keep_slash). */
static int encode(struct lb_buf *b, const char *s, bool keep_slash)
{
	int r = 0;

	for (; *s && r == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if (unreserved(c) || (keep_slash && c == '/'))
			r = lb_buf_putc(b, (char)c);
		else
			r = lb_buf_printf(b, "%%%02X", c);
	}
	return r;
}

static char *encoded(const char *s, bool keep_slash)
{
	struct lb_buf b;

	lb_buf_init(&b, 16384);
	if (lb_buf_puts(&b, "") < 0 || encode(&b, s, keep_slash) < 0) {
		lb_buf_release(&b);
		return NULL;
	}
	return lb_buf_steal(&b);
}

static char *full_key(struct s3 *s3, const char *name)
{
	size_t n = strlen(s3->prefix) + strlen(name) + 1;
	char *k = malloc(n);

	if (k)
		snprintf(k, n, "%s%s", s3->prefix, name);
	return k;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Exponential backoff with jitter: a random time in [d/2, d], d = base * 2^attempt, capped. */
static void backoff(int attempt)
{
	static __thread unsigned seed;
	unsigned d = BACKOFF_BASE_MS;

	if (!seed && getentropy(&seed, sizeof(seed)) < 0)
		seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	for (int i = 0; i < attempt && d < BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	sleep_ms(d / 2 + (unsigned)rand_r(&seed) % (d / 2 + 1));
}

/* ---- CURL handles ---------------------------------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ctx)
{
	struct s3 *s3 = ctx;

	(void)h;
	(void)access;
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&s3->share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
	struct s3 *s3 = ctx;

	(void)h;
	if (data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&s3->share_mu[data]);
}

static CURL *handle_get(struct s3 *s3)
{
	CURL *h = NULL;

	pthread_mutex_lock(&s3->mu);
	if (s3->nidle)
		h = s3->idle[--s3->nidle];
	pthread_mutex_unlock(&s3->mu);
	if (!h)
		h = curl_easy_init();
	else
		curl_easy_reset(h); /* keeps its live connections */
	return h;
}

static void handle_put(struct s3 *s3, CURL *h)
{
	pthread_mutex_lock(&s3->mu);
	if (s3->nidle < IDLE_HANDLES) {
		s3->idle[s3->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&s3->mu);
	if (h)
		curl_easy_cleanup(h);
}

/* ---- one request, with retries ---------------------------------------------------------- */

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct req *q = ctx;
	size_t len = size * n, v;

	if (len >= 5 && !strncasecmp(p, "HTTP/", 5)) {
		q->etag[0] = '\0'; /* a new response (after "100 Continue") */
		q->have_clen = false;
		q->have_range = false;
	} else if (len > 20 && !strncasecmp(p, "Content-Range: bytes ", 21)) {
		uint64_t c = 0;
		size_t i = 21, digits = 0;

		for (; i < len && p[i] >= '0' && p[i] <= '9' && digits < 19; i++, digits++)
			c = c * 10 + (uint64_t)(p[i] - '0');
		if (digits && digits < 19 && i < len && p[i] == '-') {
			q->range_start = c;
			q->have_range = true;
		}
	} else if (len > 15 && !strncasecmp(p, "Content-Length:", 15)) {
		uint64_t c = 0;
		size_t i = 15, digits = 0;

		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		for (; i < len && p[i] >= '0' && p[i] <= '9' && digits < 19; i++, digits++)
			c = c * 10 + (uint64_t)(p[i] - '0');
		if (digits && digits < 19) {
			q->clen = c;
			q->have_clen = true;
		}
	} else if (len > 5 && !strncasecmp(p, "ETag:", 5)) {
		v = 5;
		while (v < len && (p[v] == ' ' || p[v] == '\t'))
			v++;
		len -= v;
		while (len &&
		       (p[v + len - 1] == '\r' || p[v + len - 1] == '\n' || p[v + len - 1] == ' '))
			len--;
		if (len < sizeof(q->etag) && !memchr(p + v, '\0', len)) {
			memcpy(q->etag, p + v, len);
			q->etag[len] = '\0';
		}
	}
	return size * n;
}

struct body_ctx {
	struct req *q;
	CURL *h;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct req *q = ((struct body_ctx *)ctx)->q;
	CURL *h = ((struct body_ctx *)ctx)->h;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (q->dst && (status == 200 || status == 206)) {
		size_t take = len;

		if (status == 200 && q->skip) { /* the server ignored the range */
			size_t s = q->skip < take ? (size_t)q->skip : take;

			q->skip -= s;
			p += s;
			take -= s;
		}
		if (take > q->dst_len - q->got)
			take = q->dst_len - q->got; /* more than asked for: ignore the rest */
		memcpy(q->dst + q->got, p, take);
		q->got += take;
		if (status == 200 && q->got == q->dst_len && !q->skip) {
			/* the whole object came for a range: stop once the range is here */
			q->enough = true;
			return 0;
		}
		return len;
	}
	if (q->resp.len + len > q->resp_max) {
		q->resp_overflow = true;
		return 0; /* no use reading more: stop the transfer */
	}
	if (lb_buf_append(&q->resp, p, len) < 0)
		return 0; /* out of memory: fail the transfer */
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ctx)
{
	struct req *q = ctx;
	size_t len = size * n;

	if (len > q->body_len - q->rpos)
		len = q->body_len - q->rpos;
	memcpy(p, (const uint8_t *)q->body + q->rpos, len);
	q->rpos += len;
	return len;
}

static int on_seek(void *ctx, curl_off_t off, int origin)
{
	struct req *q = ctx;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > q->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	q->rpos = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int make_url(struct s3 *s3, const struct req *q, struct lb_buf *u)
{
	int r;

	if (s3->virtual_host) {
		const char *host = strstr(s3->endpoint, "://") + 3;

		r = lb_buf_printf(u, "%.*s%s.%s/", (int)(host - s3->endpoint), s3->endpoint,
				  s3->bucket, host);
	} else {
		r = lb_buf_printf(u, "%s/%s%s", s3->endpoint, s3->bucket, q->key ? "/" : "");
	}
	if (r == 0 && q->key)
		r = encode(u, q->key, true);
	if (r == 0 && q->query)
		r = lb_buf_printf(u, "?%s", q->query);
	return r;
}

static bool transient_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool transient_http(const struct req *q)
{
	const char *c = q->have_err ? q->err.code : "";

	return q->status >= 500 || q->status == 429 || !strcmp(c, "SlowDown") ||
	       !strcmp(c, "RequestTimeout") || !strcmp(c, "InternalError") ||
	       !strcmp(c, "ConditionalRequestConflict") || !strcmp(c, "OperationAborted");
}

/*
 * Perform @q, retrying transient failures. Returns 0 once the server gave
 * an answer that is final (q->status: any code; q->err parsed from an error
 * body), or -EIO / -ENOMEM (recorded) when the request could not be made.
 */
static int perform(struct lb_store *s, struct req *q, const char *what, const char *name)
{
	struct s3 *s3 = S3(s);
	uint8_t sum[LB_SHA256_LEN];
	char hex[LB_SHA256_HEX], hdr[128], errbuf[CURL_ERROR_SIZE];
	struct lb_buf url;
	CURLcode cc = CURLE_OK;
	int r;

	r = lb_sha256(q->body ? q->body : "", q->body_len, sum);
	if (r < 0)
		return r;
	snprintf(hdr, sizeof(hdr), "x-amz-content-sha256: %s", lb_hex(sum, sizeof(sum), hex));
	lb_buf_init(&url, 32768);
	r = make_url(s3, q, &url);
	if (r < 0) {
		lb_buf_release(&url);
		return r == -ENOMEM ? r : lb_err(-EINVAL, name, NULL, "the URL is too long");
	}
	lb_buf_init(&q->resp, q->resp_max ? q->resp_max : RESP_MAX);
	if (!q->resp_max)
		q->resp_max = RESP_MAX;

	for (int attempt = 0;; attempt++) {
		struct curl_slist *hl = NULL, *t;
		CURL *h = handle_get(s3);
		struct body_ctx wctx = {q, h};
		char range[80];
		bool ok = true;

		if (!h) {
			r = -ENOMEM;
			break;
		}
		lb_buf_reset(&q->resp);
		q->resp_overflow = false;
		q->status = 0;
		q->etag[0] = '\0';
		q->have_clen = false;
		q->got = 0;
		q->enough = false;
		q->skip = q->off;
		q->rpos = 0;
		q->have_err = false;
		errbuf[0] = '\0';

#define ADD(x)                                \
	do {                                  \
		t = curl_slist_append(hl, x); \
		ok = ok && t;                 \
		hl = t ? t : hl;              \
	} while (0)
		/* no "Expect:" to turn off 100-continue: curl 7.88 would sign the empty header */
		ADD(hdr);
		if (s3->token_hdr)
			ADD(s3->token_hdr);
		if (q->dst) {
			snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64, q->off,
				 q->off + q->dst_len - 1);
			ADD(range);
		}
		for (size_t i = 0; i < 3 && q->hdrs[i]; i++)
			ADD(q->hdrs[i]);
#undef ADD
		if (!ok) {
			curl_slist_free_all(hl);
			handle_put(s3, h);
			r = -ENOMEM;
			break;
		}
		curl_easy_setopt(h, CURLOPT_URL, url.data);
		curl_easy_setopt(h, CURLOPT_SHARE, s3->share);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "lifeboat");
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s3->sigv4);
		curl_easy_setopt(h, CURLOPT_USERNAME, s3->access_key);
		curl_easy_setopt(h, CURLOPT_PASSWORD, s3->secret_key);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, s3->timeout < 10 ? s3->timeout : 10L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s3->timeout);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
		if (s3->ca_bundle)
			curl_easy_setopt(h, CURLOPT_CAINFO, s3->ca_bundle);
		if (getenv("LIFEBOAT_S3_TRACE"))
			curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &wctx);
		if (!strcmp(q->method, "HEAD")) {
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		} else if (!strcmp(q->method, "PUT")) {
			curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(h, CURLOPT_READDATA, q);
			curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
			curl_easy_setopt(h, CURLOPT_SEEKDATA, q);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len);
		} else if (!strcmp(q->method, "POST")) {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS,
					 q->body ? (const char *)q->body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
		} else if (!strcmp(q->method, "DELETE")) {
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
		} else {
			curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		}
		cc = curl_easy_perform(h);
		if (cc == CURLE_WRITE_ERROR && (q->enough || q->resp_overflow))
			cc = CURLE_OK; /* we stopped it: all that was asked for, or too much */
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
		curl_slist_free_all(hl);
		handle_put(s3, h);

		if (cc == CURLE_OK) {
			if ((q->status >= 300 || q->error_in_200) && q->resp.len &&
			    !q->resp_overflow)
				q->have_err =
					lb_s3_parse_error(q->resp.data, q->resp.len, &q->err) == 1;
			lb_err_clear();
			if (q->status >= 200 && q->status < 300 && !q->have_err) {
				r = 0;
				break;
			}
			if (!transient_http(q) || attempt >= s3->retries) {
				r = 0;
				break;
			}
		} else if (cc == CURLE_WRITE_ERROR) {
			r = -ENOMEM;
			break;
		} else if (!transient_curl(cc) || attempt >= s3->retries) {
			r = lb_err(-EIO, s->url, HINT_NET, "%s %s: %s: %s (after %d attempts)",
				   what, name, s3->endpoint,
				   errbuf[0] ? errbuf : curl_easy_strerror(cc), attempt + 1);
			break;
		}
		/* a request that may have reached the server before it failed */
		if (cc != CURLE_COULDNT_CONNECT)
			q->ambiguous = true;
		backoff(attempt);
	}
	lb_buf_release(&url);
	return r;
}

static void req_release(struct req *q)
{
	lb_buf_release(&q->resp);
}

/* The error for a final answer that is not a success. */
static int http_error(struct lb_store *s, const struct req *q, const char *what, const char *name)
{
	struct s3 *s3 = S3(s);
	const char *code = q->have_err ? q->err.code : "";
	const char *msg = q->have_err ? q->err.message : "";
	char detail[400];

	snprintf(detail, sizeof(detail), "HTTP %ld%s%s%s%s%s", q->status, *code ? " " : "", code,
		 *msg ? ": " : "", msg, "");
	if (!strcmp(code, "NoSuchBucket"))
		return lb_err(-ENOENT, s->url, HINT_BUCKET, "no bucket '%s' at %s", s3->bucket,
			      s3->endpoint);
	if (!strcmp(code, "AuthorizationHeaderMalformed") || !strcmp(code, "PermanentRedirect") ||
	    !strcmp(code, "IncorrectEndpoint") || q->status == 301)
		return lb_err(-EINVAL, s->url,
			      "set AWS_REGION to the bucket's region, or check the endpoint",
			      "%s %s: the bucket is not in region %s, or not at %s (%s)", what,
			      name, s3->region, s3->endpoint, detail);
	if (!strcmp(code, "QuotaExceeded") || !strcmp(code, "EntityTooLarge"))
		return lb_err(-ENOSPC, s->url, "raise the bucket's quota or free space",
			      "%s %s: %s", what, name, detail);
	if (q->status == 401 || q->status == 403 || !strcmp(code, "InvalidAccessKeyId") ||
	    !strcmp(code, "SignatureDoesNotMatch") || !strcmp(code, "AccessDenied"))
		return lb_err(-EACCES, s->url, HINT_CREDS, "%s %s: access denied by %s (%s)", what,
			      name, s3->endpoint, detail);
	if (q->status == 404)
		return lb_err(-ENOENT, name, NULL, "no such object in %s", s->url);
	if (q->status == 412)
		return lb_err(-EEXIST, name, NULL, "the object exists already");
	if (q->status == 416)
		return lb_err(-ENODATA, name, "run 'lifeboat check'",
			      "the object is shorter than the range read (truncated)");
	if (q->status >= 500 || q->status == 429)
		return lb_err(-EIO, s->url, HINT_NET, "%s %s: %s answers %s (after %d attempts)",
			      what, name, S3(s)->endpoint, detail, S3(s)->retries + 1);
	return lb_err(-EIO, s->url, NULL, "%s %s: %s", what, name, detail);
}

/* ---- objects ------------------------------------------------------------------------------- */

/* HEAD @key: 0 and its size (and ETag, if @etag), -ENOENT, or an error (recorded). */
static int head(struct lb_store *s, const char *key, const char *name, uint64_t *size, char *etag,
		size_t etag_cap)
{
	struct req q = {.method = "HEAD", .key = key};
	int r = perform(s, &q, "reading", name);

	if (r == 0 && q.status != 200)
		r = q.status == 404 ? lb_err(-ENOENT, name, NULL, "no such object in %s", s->url)
				    : http_error(s, &q, "reading", name);
	if (r == 0 && !q.have_clen)
		r = lb_err(-EIO, s->url, NULL, "reading %s: the answer has no Content-Length",
			   name);
	if (r == 0 && size)
		*size = q.clen;
	if (r == 0 && etag)
		snprintf(etag, etag_cap, "%s", q.etag);
	req_release(&q);
	return r;
}

static int s3_stat(struct lb_store *s, const char *name, uint64_t *size)
{
	_cleanup_free_ char *key = full_key(S3(s), name);

	return key ? head(s, key, name, size, NULL, 0) : -ENOMEM;
}

/* Is the object @key exactly @data? (its ETag is the MD5 of a single PUT's bytes) */
static bool same_object(struct lb_store *s, const char *key, const char *name, const void *data,
			size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char etag[160], hex[2 * EVP_MAX_MD_SIZE + 3];
	uint64_t size = 0;

	if (head(s, key, name, &size, etag, sizeof(etag)) < 0 || size != len)
		return false;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL))
		return false;
	hex[0] = '"';
	lb_hex(md, mdlen, hex + 1);
	hex[1 + 2 * mdlen] = '"';
	hex[2 + 2 * mdlen] = '\0';
	return !strcasecmp(etag, hex) ||
	       (strlen(etag) == 2 * mdlen && !strncasecmp(etag, hex + 1, 2 * mdlen));
}

static int put_key(struct lb_store *s, const char *key, const char *name, const void *data,
		   size_t len)
{
	struct req q = {.method = "PUT", .key = key, .body = data, .body_len = len};
	int r;

	q.hdrs[0] = "If-None-Match: *";
	r = perform(s, &q, "writing", name);
	if (r == 0 && q.status != 200) {
		/*
		 * 412 after a retry: our own earlier attempt may have stored it
		 * before its answer was lost. The same bytes there: done.
		 */
		if (q.status == 412 && q.ambiguous && same_object(s, key, name, data, len))
			r = 0;
		else
			r = http_error(s, &q, "writing", name);
	}
	req_release(&q);
	return r;
}

static int s3_put(struct lb_store *s, const char *name, const void *data, size_t len)
{
	_cleanup_free_ char *key = full_key(S3(s), name);

	return key ? put_key(s, key, name, data, len) : -ENOMEM;
}

static int s3_get(struct lb_store *s, const char *name, uint64_t off, size_t len, void *buf)
{
	_cleanup_free_ char *key = full_key(S3(s), name);
	struct req q = {.method = "GET", .dst = buf, .dst_len = len, .off = off};
	int r;

	if (!key)
		return -ENOMEM;
	if (len == 0) {
		uint64_t size = 0;

		r = head(s, key, name, &size, NULL, 0);
		if (r == 0 && size < off)
			r = lb_err(-ENODATA, name, "run 'lifeboat check'",
				   "the object ends before offset %" PRIu64 " (truncated)", off);
		return r;
	}
	q.key = key;
	r = perform(s, &q, "reading", name);
	if (r == 0 && q.status != 200 && q.status != 206)
		r = http_error(s, &q, "reading", name);
	if (r == 0 && q.status == 206 && (!q.have_range || q.range_start != off))
		r = lb_err(-EIO, s->url, NULL,
			   "reading %s: asked for bytes from %" PRIu64 ", the answer has %s", name,
			   off, q.have_range ? "others" : "no Content-Range");
	if (r == 0 && q.got != len)
		r = lb_err(-ENODATA, name, "run 'lifeboat check'",
			   "the object ends before offset %" PRIu64 " (truncated)", off + len);
	req_release(&q);
	return r;
}

/* A whole object in one GET (not HEAD then GET): snapshots and index objects. */
static int s3_get_all(struct lb_store *s, const char *name, size_t max, uint8_t **data, size_t *len)
{
	_cleanup_free_ char *key = full_key(S3(s), name);
	struct req q = {.method = "GET", .resp_max = max};
	int r;

	if (!key)
		return -ENOMEM;
	q.key = key;
	r = perform(s, &q, "reading", name);
	if (r == 0 && q.status != 200)
		r = http_error(s, &q, "reading", name);
	if (r == 0 && q.resp_overflow)
		r = lb_err(-EFBIG, name, "run 'lifeboat check'",
			   "the object has more than the %zu bytes allowed", max);
	if (r == 0 && q.have_clen && q.clen != q.resp.len)
		r = lb_err(-ENODATA, name, "run 'lifeboat check'",
			   "the answer has %zu of the object's %" PRIu64 " bytes", q.resp.len,
			   q.clen);
	if (r == 0) {
		*len = q.resp.len;
		*data = (uint8_t *)lb_buf_steal(&q.resp);
		if (!*data)
			r = -ENOMEM;
	}
	req_release(&q);
	return r;
}

struct list_ctx {
	struct s3 *s3;
	lb_store_list_fn fn;
	void *ctx;
};

static int list_one(void *ctx, const char *key, uint64_t size)
{
	struct list_ctx *c = ctx;
	size_t n = strlen(c->s3->prefix);

	if (strncmp(key, c->s3->prefix, n) || !key[n])
		return 0; /* not ours (the server should not send it) */
	return c->fn(c->ctx, key + n, size);
}

static int s3_list(struct lb_store *s, const char *prefix, lb_store_list_fn fn, void *ctx)
{
	struct s3 *s3 = S3(s);
	struct list_ctx c = {s3, fn, ctx};
	struct lb_s3_list_page page = {0};
	_cleanup_free_ char *kp = full_key(s3, prefix);
	_cleanup_free_ char *ep = kp ? encoded(kp, false) : NULL;
	int r;

	if (!ep)
		return -ENOMEM;
	do {
		_cleanup_free_ char *et = page.token[0] ? encoded(page.token, false) : NULL;
		struct req q = {.method = "GET", .resp_max = LIST_RESP_MAX};
		struct lb_buf qs;

		if (page.token[0] && !et)
			return -ENOMEM;
		lb_buf_init(&qs, 65536);
		/* sorted by name, as SigV4 wants them */
		r = lb_buf_printf(&qs, "%s%s%slist-type=2&max-keys=%d&prefix=%s",
				  et ? "continuation-token=" : "", et ? et : "", et ? "&" : "",
				  s3->page_keys, ep);
		if (r < 0) {
			lb_buf_release(&qs);
			return r;
		}
		q.query = qs.data;
		r = perform(s, &q, "listing", *prefix ? prefix : "the repository");
		if (r == 0 && q.status != 200)
			r = http_error(s, &q, "listing", *prefix ? prefix : "the repository");
		if (r == 0 && q.resp_overflow)
			r = lb_err(-EIO, s->url, NULL, "listing %s: the answer is over %u bytes",
				   prefix, LIST_RESP_MAX);
		if (r == 0)
			r = lb_s3_parse_list(q.resp.data ? q.resp.data : "", q.resp.len, list_one,
					     &c, &page);
		req_release(&q);
		lb_buf_release(&qs);
		if (r < 0)
			return r;
	} while (page.truncated);
	return 0;
}

static int s3_del(struct lb_store *s, const char *name)
{
	_cleanup_free_ char *key = full_key(S3(s), name);
	struct req q = {.method = "DELETE"};
	int r;

	if (!key)
		return -ENOMEM;
	/* S3 answers 204 for a missing key too: ask first (another deleter may race us) */
	r = head(s, key, name, NULL, NULL, 0);
	if (r < 0)
		return r;
	q.key = key;
	r = perform(s, &q, "deleting", name);
	if (r == 0 && q.status != 204 && q.status != 200)
		r = http_error(s, &q, "deleting", name);
	req_release(&q);
	return r;
}

/* ---- streaming writer: multipart upload ------------------------------------------------ */

static char *upload_query(const char *id, int part)
{
	_cleanup_free_ char *eid = encoded(id, false);
	struct lb_buf b;

	if (!eid)
		return NULL;
	lb_buf_init(&b, 4096);
	if ((part ? lb_buf_printf(&b, "partNumber=%d&uploadId=%s", part, eid)
		  : lb_buf_printf(&b, "uploadId=%s", eid)) < 0) {
		lb_buf_release(&b);
		return NULL;
	}
	return lb_buf_steal(&b);
}

/* Record @r as the writer's sticky error (the first one wins, with its message); returns @r. */
static int writer_fail(struct s3_writer *w, int r)
{
	pthread_mutex_lock(&w->mu);
	if (!w->err) {
		w->err = r;
		lb_err_save(&w->err_rec);
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

/* The writer's sticky error (0 if none), its message recorded on this thread. */
static int writer_error(struct s3_writer *w)
{
	int r;

	pthread_mutex_lock(&w->mu);
	r = w->err;
	if (r)
		lb_err_restore(&w->err_rec);
	pthread_mutex_unlock(&w->mu);
	return r;
}

static int upload_part(struct lb_store *s, struct part *p)
{
	struct s3_writer *w = p->w;
	_cleanup_free_ char *qs = upload_query(w->upload_id, p->no);
	struct req q = {.method = "PUT", .key = w->key, .body = p->data, .body_len = p->len};
	char what[64];
	int r;

	if (!qs)
		return -ENOMEM;
	q.query = qs;
	snprintf(what, sizeof(what), "writing part %d of", p->no);
	r = perform(s, &q, what, w->name);
	if (r == 0 && q.status != 200)
		r = http_error(s, &q, what, w->name);
	if (r == 0 && !q.etag[0])
		r = lb_err(-EIO, s->url, NULL, "%s %s: the answer has no ETag", what, w->name);
	if (r == 0) {
		pthread_mutex_lock(&w->mu);
		snprintf(w->etags[p->no - 1], sizeof(w->etags[0]), "%s", q.etag);
		pthread_mutex_unlock(&w->mu);
	}
	req_release(&q);
	return r;
}

static void *upload_thread(void *arg)
{
	struct lb_store *s = arg;
	struct s3 *s3 = S3(s);

	for (;;) {
		struct part *p;
		bool skip;
		int r = 0;

		pthread_mutex_lock(&s3->mu);
		while (!s3->qhead && !s3->stopping)
			pthread_cond_wait(&s3->qcv, &s3->mu);
		p = s3->qhead;
		if (p) {
			s3->qhead = p->next;
			if (!s3->qhead)
				s3->qtail = NULL;
		}
		pthread_mutex_unlock(&s3->mu);
		if (!p)
			return NULL;
		pthread_mutex_lock(&p->w->mu);
		skip = p->w->aborted || p->w->err;
		pthread_mutex_unlock(&p->w->mu);
		if (!skip)
			r = upload_part(s, p);
		if (r < 0)
			writer_fail(p->w, r);
		pthread_mutex_lock(&p->w->mu);
		p->w->inflight--;
		pthread_cond_broadcast(&p->w->cv);
		pthread_mutex_unlock(&p->w->mu);
		free(p->data);
		free(p);
	}
}

static int start_threads(struct lb_store *s)
{
	struct s3 *s3 = S3(s);
	int r = 0;

	pthread_mutex_lock(&s3->mu);
	while (s3->nthreads < UPLOAD_THREADS) {
		r = -pthread_create(&s3->threads[s3->nthreads], NULL, upload_thread, s);
		if (r < 0)
			break;
		s3->nthreads++;
	}
	pthread_mutex_unlock(&s3->mu);
	/* one thread is enough to make progress */
	return s3->nthreads ? 0 : lb_err(r, s->url, NULL, "cannot start the upload threads");
}

static int create_upload(struct lb_store *s, struct s3_writer *w)
{
	struct req q = {.method = "POST", .key = w->key, .query = "uploads="};
	int r = start_threads(s);

	if (r < 0)
		return r;
	r = perform(s, &q, "starting the upload of", w->name);
	if (r == 0 && q.status != 200)
		r = http_error(s, &q, "starting the upload of", w->name);
	if (r == 0)
		r = lb_s3_parse_upload_id(q.resp.data ? q.resp.data : "", q.resp.len, w->upload_id,
					  sizeof(w->upload_id));
	req_release(&q);
	return r;
}

/* Hand the part being filled to the upload threads; wait while too many are in flight. */
static int submit_part(struct s3_writer *w)
{
	struct lb_store *s = w->base.store;
	struct s3 *s3 = S3(s);
	struct part *p;
	int r;

	if (!w->upload_id[0]) {
		r = create_upload(s, w);
		if (r < 0)
			return writer_fail(w, r);
	}
	if (w->nparts == MAX_PARTS)
		return writer_fail(w,
				   lb_err(-EFBIG, w->name, NULL, "more than %d parts of %u bytes",
					  MAX_PARTS, PART_SIZE));
	pthread_mutex_lock(&w->mu);
	while (w->inflight >= PARTS_PER_WRITER && !w->err)
		pthread_cond_wait(&w->cv, &w->mu);
	r = w->err;
	if (r < 0)
		lb_err_restore(&w->err_rec);
	/* the upload threads write ETags into the array: grow it under the lock */
	if (r == 0 && w->nparts % 64 == 0) {
		char(*e)[160] = reallocarray(w->etags, (size_t)w->nparts + 64, sizeof(*e));

		if (e)
			w->etags = e;
		else
			r = -ENOMEM;
	}
	pthread_mutex_unlock(&w->mu);
	if (r < 0)
		return writer_fail(w, r);
	p = calloc(1, sizeof(*p));
	if (!p)
		return writer_fail(w, -ENOMEM);
	p->w = w;
	p->no = ++w->nparts;
	w->etags[p->no - 1][0] = '\0';
	p->data = w->buf;
	p->len = w->len;
	w->buf = NULL;
	w->len = 0;
	pthread_mutex_lock(&w->mu);
	w->inflight++;
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_lock(&s3->mu);
	if (s3->qtail)
		s3->qtail->next = p;
	else
		s3->qhead = p;
	s3->qtail = p;
	pthread_cond_signal(&s3->qcv);
	pthread_mutex_unlock(&s3->mu);
	return 0;
}

static int s3_create(struct lb_store *s, const char *name, struct lb_store_writer **out)
{
	struct s3_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->base.store = s;
	w->name = strdup(name);
	w->key = full_key(S3(s), name);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (!w->name || !w->key) {
		lb_store_abort(&w->base);
		return -ENOMEM;
	}
	*out = &w->base;
	return 0;
}

static int s3_write(struct lb_store_writer *bw, const void *data, size_t len)
{
	struct s3_writer *w = (struct s3_writer *)bw;
	const uint8_t *p = data;
	int r;

	r = writer_error(w);
	if (r < 0)
		return r;
	while (len) {
		size_t n;

		if (!w->buf) {
			w->buf = malloc(PART_SIZE);
			if (!w->buf)
				return writer_fail(w, -ENOMEM);
		}
		n = LB_MIN(len, (size_t)PART_SIZE - w->len);
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		w->total += n;
		p += n;
		len -= n;
		if (w->len == PART_SIZE) {
			r = submit_part(w);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Wait until no part of @w is in flight. Returns the writer's error. */
static int wait_parts(struct s3_writer *w)
{
	int r;

	pthread_mutex_lock(&w->mu);
	while (w->inflight)
		pthread_cond_wait(&w->cv, &w->mu);
	r = w->err;
	if (r < 0)
		lb_err_restore(&w->err_rec);
	pthread_mutex_unlock(&w->mu);
	return r;
}

static void writer_free(struct s3_writer *w)
{
	free(w->buf);
	free(w->etags);
	free(w->name);
	free(w->key);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

static void abort_upload(struct lb_store *s, struct s3_writer *w)
{
	_cleanup_free_ char *qs = upload_query(w->upload_id, 0);
	struct req q = {.method = "DELETE", .key = w->key, .query = qs};
	struct lb_error save;

	if (!qs)
		return;
	/* best effort: an upload left behind is invisible (a bucket lifecycle rule expires it) */
	lb_err_save(&save);
	perform(s, &q, "aborting the upload of", w->name);
	req_release(&q);
	lb_err_restore(&save);
}

static void s3_abort(struct lb_store_writer *bw)
{
	struct s3_writer *w = (struct s3_writer *)bw;

	pthread_mutex_lock(&w->mu);
	w->aborted = true;
	while (w->inflight)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	if (w->upload_id[0])
		abort_upload(bw->store, w);
	writer_free(w);
}

static int complete_upload(struct lb_store *s, struct s3_writer *w)
{
	_cleanup_free_ char *qs = upload_query(w->upload_id, 0);
	struct req q = {.method = "POST", .key = w->key, .error_in_200 = true};
	struct lb_buf x;
	uint64_t size;
	int r;

	if (!qs)
		return -ENOMEM;
	lb_buf_init(&x, (size_t)w->nparts * 256 + 256);
	r = lb_buf_puts(&x, "<CompleteMultipartUpload>");
	for (int i = 0; i < w->nparts && r == 0; i++) {
		r = lb_buf_printf(&x, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
		for (const char *e = w->etags[i]; *e && r == 0; e++)
			r = *e == '&'	? lb_buf_puts(&x, "&amp;")
			    : *e == '<' ? lb_buf_puts(&x, "&lt;")
			    : *e == '>' ? lb_buf_puts(&x, "&gt;")
					: lb_buf_putc(&x, *e);
		if (r == 0)
			r = lb_buf_puts(&x, "</ETag></Part>");
	}
	if (r == 0)
		r = lb_buf_puts(&x, "</CompleteMultipartUpload>");
	if (r < 0) {
		lb_buf_release(&x);
		return r;
	}
	q.query = qs;
	q.body = x.data;
	q.body_len = x.len;
	q.hdrs[0] = "Content-Type: application/xml";
	q.hdrs[1] = "If-None-Match: *"; /* AWS honours it (since 2024); RGW 16 ignores it */
	r = perform(s, &q, "completing the upload of", w->name);
	if (r == 0 && (q.status != 200 || q.have_err)) {
		/* our earlier attempt may have completed it: then the object is there, whole */
		if (q.ambiguous && q.have_err && !strcmp(q.err.code, "NoSuchUpload") &&
		    head(s, w->key, w->name, &size, NULL, 0) == 0 && size == w->total)
			r = 0;
		else
			r = http_error(s, &q, "completing the upload of", w->name);
	}
	req_release(&q);
	lb_buf_release(&x);
	return r;
}

static int s3_commit(struct lb_store_writer *bw)
{
	struct s3_writer *w = (struct s3_writer *)bw;
	struct lb_store *s = bw->store;
	uint64_t size;
	int r = writer_error(w);

	if (r < 0)
		goto fail;
	if (!w->upload_id[0]) {
		/* it fits in one part: a single create-only PUT */
		r = put_key(s, w->key, w->name, w->buf ? w->buf : (const uint8_t *)"", w->len);
		writer_free(w);
		return r;
	}
	if (w->len) {
		r = submit_part(w);
		if (r < 0)
			goto fail;
	}
	r = wait_parts(w);
	if (r < 0)
		goto fail;
	/* CompleteMultipartUpload ignores If-None-Match: check first (see the header comment) */
	r = head(s, w->key, w->name, &size, NULL, 0);
	if (r == 0) {
		r = lb_err(-EEXIST, w->name, NULL, "the object exists already");
		goto fail;
	}
	if (r != -ENOENT)
		goto fail;
	lb_err_clear();
	r = complete_upload(s, w);
	if (r < 0)
		goto fail;
	writer_free(w);
	return 0;
fail : {
	struct lb_error save;

	lb_err_save(&save);
	s3_abort(bw);
	lb_err_restore(&save);
	return r;
}
}

/* ---- open and close ------------------------------------------------------------------------ */

static void s3_close(struct lb_store *s)
{
	struct s3 *s3 = S3(s);

	if (!s3)
		return;
	pthread_mutex_lock(&s3->mu);
	s3->stopping = true;
	pthread_cond_broadcast(&s3->qcv);
	pthread_mutex_unlock(&s3->mu);
	for (int i = 0; i < s3->nthreads; i++)
		pthread_join(s3->threads[i], NULL);
	for (size_t i = 0; i < s3->nidle; i++)
		curl_easy_cleanup(s3->idle[i]);
	if (s3->share)
		curl_share_cleanup(s3->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&s3->share_mu[i]);
	pthread_mutex_destroy(&s3->mu);
	pthread_cond_destroy(&s3->qcv);
	free(s3->endpoint);
	free(s3->bucket);
	free(s3->prefix);
	if (s3->secret_key)
		explicit_bzero(s3->secret_key, strlen(s3->secret_key));
	free(s3->access_key);
	free(s3->secret_key);
	free(s3->token_hdr);
	free(s3);
	s->priv = NULL;
}

static const struct lb_store_ops s3_ops = {
	.scheme = "s3",
	.put = s3_put,
	.create = s3_create,
	.write = s3_write,
	.commit = s3_commit,
	.abort = s3_abort,
	.get = s3_get,
	.get_all = s3_get_all,
	.stat = s3_stat,
	.list = s3_list,
	.del = s3_del,
	.close = s3_close,
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static bool bucket_ok(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!unreserved((unsigned char)b[i]) || b[i] == '~')
			return false;
	return true;
}

/* Split s3://BUCKET/PREFIX; the prefix loses its outer slashes and gains one at the end. */
static int parse_url(const char *url, struct s3 *s3)
{
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t bn = slash ? (size_t)(slash - b) : strlen(b);
	const char *p = slash ? slash + 1 : "";
	size_t pn;

	if (!bucket_ok(b, bn))
		return lb_err(
			-EINVAL, url, "write s3://BUCKET/PREFIX",
			"'%.*s' is not a bucket name (3 to 63 letters, digits, '.', '-', '_')",
			(int)bn, b);
	while (*p == '/')
		p++;
	pn = strlen(p);
	while (pn && p[pn - 1] == '/')
		pn--;
	s3->bucket = strndup(b, bn);
	s3->prefix = malloc(pn + 2);
	if (!s3->bucket || !s3->prefix)
		return -ENOMEM;
	memcpy(s3->prefix, p, pn);
	if (pn)
		s3->prefix[pn++] = '/';
	s3->prefix[pn] = '\0';
	for (const char *c = s3->prefix; *c;) {
		const char *e = strchr(c, '/');
		size_t n = (size_t)(e - c);

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return lb_err(-EINVAL, url, "write s3://BUCKET/PREFIX",
				      "the prefix has an empty, '.' or '..' part");
		c = e + 1;
	}
	return 0;
}

struct probe {
	size_t others;
	bool config;
	char first[128];
};

static int probe_one(void *ctx, const char *name, uint64_t size)
{
	struct probe *p = ctx;

	(void)size;
	if (!strcmp(name, "config"))
		p->config = true;
	else if (strncmp(name, "keys/", 5) && !p->others++)
		snprintf(p->first, sizeof(p->first), "%s", name);
	return 0;
}

/* The first request: are the bucket and credentials good? With @create: is the prefix empty? */
static int probe(struct lb_store *s, bool create)
{
	struct s3 *s3 = S3(s);
	struct probe p = {0};
	int r;

	if (!create) {
		struct req q = {.method = "GET", .resp_max = LIST_RESP_MAX};
		_cleanup_free_ char *ep = encoded(s3->prefix, false);
		struct lb_buf qs;

		if (!ep)
			return -ENOMEM;
		lb_buf_init(&qs, 4096);
		r = lb_buf_printf(&qs, "list-type=2&max-keys=1&prefix=%s", ep);
		if (r < 0) {
			lb_buf_release(&qs);
			return r;
		}
		q.query = qs.data;
		r = perform(s, &q, "opening", "the repository");
		if (r == 0 && q.status != 200)
			r = http_error(s, &q, "opening", "the repository");
		req_release(&q);
		lb_buf_release(&qs);
		return r;
	}
	r = s3_list(s, "", probe_one, &p);
	if (r < 0)
		return r;
	if (p.others && !p.config)
		return lb_err(-EEXIST, s->url, "choose an empty prefix (s3://BUCKET/PREFIX)",
			      "the prefix holds %zu objects (%s, ...) but no repository", p.others,
			      p.first);
	return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code;

static void curl_init(void)
{
	curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int lb_s3_store_open(const char *url, unsigned flags, struct lb_store *s)
{
	const char *ep = opt_endpoint ? opt_endpoint : env("AWS_ENDPOINT_URL_S3");
	const char *region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
	const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
	const char *tok = env("AWS_SESSION_TOKEN"), *addr = env("LIFEBOAT_S3_ADDRESSING");
	const char *retries = env("LIFEBOAT_S3_RETRIES"), *timeout = env("LIFEBOAT_S3_TIMEOUT");
	struct s3 *s3;
	char def[128];
	int r;

	if (!ep)
		ep = env("AWS_ENDPOINT_URL");
	if (!region)
		region = "us-east-1";
	pthread_once(&curl_once, curl_init);
	if (curl_init_code != CURLE_OK)
		return lb_err(-EIO, url, NULL, "libcurl cannot start: %s",
			      curl_easy_strerror(curl_init_code));
	if (!ak || !sk)
		return lb_err(
			-EACCES, url,
			"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL "
			"or --s3-endpoint for a server other than AWS)",
			"no S3 credentials");
	if (addr && strcmp(addr, "path") && strcmp(addr, "virtual"))
		return lb_err(-EINVAL, "LIFEBOAT_S3_ADDRESSING", "set it to 'path' or 'virtual'",
			      "'%s' is not an addressing style", addr);
	if (strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region) ||
	    strlen(region) > 40)
		return lb_err(-EINVAL, "AWS_REGION", "e.g. us-east-1", "'%s' is not a region",
			      region);
	if (!ep) {
		snprintf(def, sizeof(def), "https://s3.%s.amazonaws.com", region);
		ep = def;
	}
	if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
		return lb_err(-EINVAL, ep, "e.g. --s3-endpoint http://127.0.0.1:7480",
			      "the S3 endpoint must be an http:// or https:// URL");
	s3 = calloc(1, sizeof(*s3));
	if (!s3)
		return -ENOMEM;
	pthread_mutex_init(&s3->mu, NULL);
	pthread_cond_init(&s3->qcv, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&s3->share_mu[i], NULL);
	s->priv = s3;
	s->ops = &s3_ops;
	s3->retries = DEFAULT_RETRIES;
	if (retries) {
		char *end;
		long n = strtol(retries, &end, 10);

		if (*end || n < 0 || n > 100) {
			r = lb_err(-EINVAL, "LIFEBOAT_S3_RETRIES", "a number from 0 to 100",
				   "'%s' is not a number of retries", retries);
			goto fail;
		}
		s3->retries = (int)n;
	}
	s3->page_keys = 1000;
	if (env("LIFEBOAT_S3_LIST_PAGE")) {
		long n = strtol(env("LIFEBOAT_S3_LIST_PAGE"), NULL, 10);

		s3->page_keys = n >= 1 && n <= 1000 ? (int)n : 1000;
	}
	s3->timeout = DEFAULT_TIMEOUT;
	if (timeout) {
		char *end;
		long n = strtol(timeout, &end, 10);

		if (*end || n < 1 || n > 3600) {
			r = lb_err(-EINVAL, "LIFEBOAT_S3_TIMEOUT",
				   "a number of seconds from 1 to 3600", "'%s' is not a timeout",
				   timeout);
			goto fail;
		}
		s3->timeout = n;
	}
	s3->virtual_host = addr && !strcmp(addr, "virtual");
	s3->ca_bundle = env("AWS_CA_BUNDLE");
	s3->endpoint = strdup(ep);
	s3->access_key = strdup(ak);
	s3->secret_key = strdup(sk);
	if (!s3->endpoint || !s3->access_key || !s3->secret_key) {
		r = -ENOMEM;
		goto fail;
	}
	{
		size_t n = strlen(s3->endpoint);

		while (n > 8 && s3->endpoint[n - 1] == '/')
			s3->endpoint[--n] = '\0';
		if (strchr(strstr(s3->endpoint, "://") + 3, '/') || strchr(s3->endpoint, '?')) {
			r = lb_err(-EINVAL, s3->endpoint, "give scheme://host[:port] only",
				   "the S3 endpoint must not have a path");
			goto fail;
		}
	}
	if (tok) {
		size_t n = strlen(tok) + 32;

		s3->token_hdr = malloc(n);
		if (!s3->token_hdr) {
			r = -ENOMEM;
			goto fail;
		}
		snprintf(s3->token_hdr, n, "x-amz-security-token: %s", tok);
	}
	snprintf(s3->sigv4, sizeof(s3->sigv4), "aws:amz:%s:s3", region);
	snprintf(s3->region, sizeof(s3->region), "%s", region);
	r = parse_url(url, s3);
	if (r < 0)
		goto fail;
	s3->share = curl_share_init();
	if (!s3->share) {
		r = -ENOMEM;
		goto fail;
	}
	curl_share_setopt(s3->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(s3->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(s3->share, CURLSHOPT_USERDATA, s3);
	curl_share_setopt(s3->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(s3->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	r = probe(s, flags & LB_STORE_CREATE);
	if (r < 0)
		goto fail;
	return 0;
fail:
	s3_close(s);
	s->ops = NULL;
	return r;
}
