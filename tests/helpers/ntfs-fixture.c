/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ntfs-fixture - build NTFS test volumes through libntfs-3g directly, so that
 * tests check lifeboat's NTFS code against an independent writer. It works on
 * a file holding only the volume (made by "mkntfs -F -Q -q -L LABEL FILE");
 * tests place the file into a partitioned disk afterwards (dd).
 *
 *   ntfs-fixture VOLUME COMMAND [ARGS]... [COMMAND [ARGS]...]...
 *
 * Commands run in order on one mount:
 *   mkdir PATH                     create PATH and its missing parents
 *   add PATH [--content FILE | --hex HEX] [--size N] [--mtime T] [--btime T]
 *            [--ctime T] [--atime T] [--short NAME83]
 *                                  create a file (and its parents); the name keeps its exact
 *                                  case. --size pads (or cuts) the content to N bytes with
 *                                  the pattern below; T is ISO 8601 UTC ("2024-07-19T04:09:00Z",
 *                                  up to 7 fraction digits); --short adds an 8.3 DOS name
 *   add-many DIR PREFIX COUNT [--size N]
 *                                  COUNT files PREFIX00001.sys ... in DIR, N pattern bytes each
 *   link EXISTING NEWPATH          a second hard link (a POSIX name) to a file
 *   symlink PATH TARGET            a Windows symbolic link (reparse point, relative unless
 *                                  TARGET starts with a drive "C:")
 *   hiberfil                       /hiberfil.sys of 8 KiB starting with "HIBR" (hibernated)
 *   dirty-flag                     set VOLUME_IS_DIRTY in $Volume
 *   dirty                          make $LogFile not clean (LFS 2.0 restart pages with a
 *                                  client in use and no clean flag) and set VOLUME_IS_DIRTY,
 *                                  as a crashed Windows 8+ leaves it; must be the last command
 *                                  (libntfs-3g no longer mounts the volume read-write)
 *   ls PATH                        print "MFT-number namespace name" per entry (debugging)
 *
 * The padding pattern: byte at file offset i is (uint8_t)((i * 2654435761u) >> 24) (32-bit
 * multiplication).
 *
 * Paths are '/'-separated, relative to the root, looked up case-sensitively.
 * Exits 0, or 1 with a message on stderr.
 */
#include "fs/ntfs3g.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#include <ntfs-3g/mst.h>
#include <ntfs-3g/reparse.h>
#pragma GCC diagnostic pop

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NTFS_EPOCH_DELTA 11644473600LL /* seconds from 1601-01-01 to 1970-01-01 */

static const char *volume_path;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ntfs-fixture: %s: ", volume_path ? volume_path : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint8_t pattern_byte(uint64_t i)
{
	return (uint8_t)(((uint32_t)i * 2654435761u) >> 24);
}

/* ---- arguments ---------------------------------------------------------- */

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		die("%s: not a number: %s", what, s);
	return v;
}

/* ISO 8601 UTC "YYYY-MM-DDTHH:MM:SS[.fffffff]Z" -> NTFS time (100 ns since 1601). */
static s64 parse_time(const char *s)
{
	struct tm tm;
	int n = 0;
	long long frac = 0;
	int digits = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		die("not an ISO 8601 UTC time: %s", s);
	s += n;
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			if (digits < 7) {
				frac = frac * 10 + (*s - '0');
				digits++;
			}
			s++;
		}
	}
	if (strcmp(s, "Z"))
		die("time must end with Z (UTC)");
	while (digits < 7) {
		frac *= 10;
		digits++;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	return ((s64)t + NTFS_EPOCH_DELTA) * 10000000LL + frac;
}

static uint8_t *parse_hex(const char *s, size_t *len)
{
	size_t n = strlen(s);
	uint8_t *out;

	if (n % 2)
		die("odd number of hex digits: %s", s);
	out = malloc(n / 2 + 1);
	if (!out)
		die("out of memory");
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			die("not hex: %s", s);
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return out;
}

static uint8_t *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		die("%s: %s", path, strerror(errno));
	for (;;) {
		size_t r;

		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				die("out of memory");
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
	*len = n;
	return buf;
}

/* ---- names and paths ---------------------------------------------------- */

static int to_ucs(const char *name, ntfschar **out)
{
	int len;

	*out = NULL;
	len = ntfs_mbstoucs(name, out);
	if (len <= 0 || len > NTFS_MAX_NAME_LEN)
		die("bad name: %s", name);
	return len;
}

static ntfs_inode *open_checked(ntfs_volume *vol, u64 mref, const char *what)
{
	ntfs_inode *ni = ntfs_inode_open(vol, mref);

	if (!ni)
		die("%s: cannot open inode: %s", what, strerror(errno));
	return ni;
}

/*
 * Open the directory @path (relative to the root), creating missing
 * components when @create. Returns the open directory inode.
 */
static ntfs_inode *open_dir(ntfs_volume *vol, const char *path, bool create)
{
	ntfs_inode *dir = open_checked(vol, FILE_root, "root");
	char *copy = strdup(path), *save = NULL;

	if (!copy)
		die("out of memory");
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		ntfschar *u;
		int len = to_ucs(c, &u);
		u64 mref = ntfs_inode_lookup_by_name(dir, u, len);
		ntfs_inode *child;

		if (mref == (u64)-1) {
			if (errno != ENOENT || !create)
				die("%s: %s", c, strerror(errno));
			child = ntfs_create(dir, const_cpu_to_le32(0), u, (u8)len, S_IFDIR);
			if (!child)
				die("mkdir %s: %s", c, strerror(errno));
		} else {
			child = open_checked(vol, MREF(mref), c);
			if (!(child->mrec->flags & MFT_RECORD_IS_DIRECTORY))
				die("%s: not a directory", c);
		}
		free(u);
		if (ntfs_inode_close(dir))
			die("%s: %s", c, strerror(errno));
		dir = child;
	}
	free(copy);
	return dir;
}

/* Split "a/b/c" into a malloc'ed "a/b" and a pointer to "c". */
static char *split_parent(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	char *parent;

	if (!slash) {
		*base = path;
		return strdup("");
	}
	*base = slash + 1;
	parent = strndup(path, (size_t)(slash - path));
	if (!parent)
		die("out of memory");
	return parent;
}

/* ---- commands ----------------------------------------------------------- */

static void cmd_mkdir(ntfs_volume *vol, const char *path)
{
	ntfs_inode *dir = open_dir(vol, path, true);

	if (ntfs_inode_close(dir))
		die("mkdir %s: %s", path, strerror(errno));
}

static void write_data(ntfs_inode *ni, const uint8_t *content, size_t clen, uint64_t size)
{
	ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	uint8_t buf[65536];
	uint64_t off = 0;

	if (!na)
		die("cannot open the data attribute: %s", strerror(errno));
	while (off < size) {
		size_t n = (size_t)(size - off < sizeof(buf) ? size - off : sizeof(buf));

		for (size_t i = 0; i < n; i++)
			buf[i] = off + i < clen ? content[off + i] : pattern_byte(off + i);
		if (ntfs_attr_pwrite(na, (s64)off, (s64)n, buf) != (s64)n)
			die("write at %" PRIu64 ": %s", off, strerror(errno));
		off += n;
	}
	ntfs_attr_close(na);
}

/* Create @path (a new file, parents as needed); returns its open inode and its directory. */
static ntfs_inode *create_file(ntfs_volume *vol, const char *path, ntfs_inode **dir_out)
{
	const char *base;
	char *parent = split_parent(path, &base);
	ntfs_inode *dir = open_dir(vol, parent, true);
	ntfschar *u;
	int len = to_ucs(base, &u);
	ntfs_inode *ni;

	if (ntfs_inode_lookup_by_name(dir, u, len) != (u64)-1)
		die("%s: exists", path);
	ni = ntfs_create(dir, const_cpu_to_le32(0), u, (u8)len, S_IFREG);
	if (!ni)
		die("create %s: %s", path, strerror(errno));
	free(u);
	free(parent);
	*dir_out = dir;
	return ni;
}

struct add_opts {
	const char *content_file;
	const char *hex;
	bool have_size;
	uint64_t size;
	bool have_time[4]; /* btime, mtime, ctime, atime */
	s64 time[4];
	const char *short_name;
};

/* Parse "--opt value" pairs from argv[*i]; stop at the first non-option. */
static void parse_add_opts(int argc, char **argv, int *i, struct add_opts *o)
{
	static const char *const times[4] = {"--btime", "--mtime", "--ctime", "--atime"};

	memset(o, 0, sizeof(*o));
	while (*i < argc && !strncmp(argv[*i], "--", 2)) {
		const char *opt = argv[*i];
		const char *val;
		bool done = false;

		if (*i + 1 >= argc)
			die("%s needs a value", opt);
		val = argv[*i + 1];
		*i += 2;
		for (int t = 0; t < 4; t++) {
			if (!strcmp(opt, times[t])) {
				o->have_time[t] = true;
				o->time[t] = parse_time(val);
				done = true;
			}
		}
		if (done)
			continue;
		if (!strcmp(opt, "--content"))
			o->content_file = val;
		else if (!strcmp(opt, "--hex"))
			o->hex = val;
		else if (!strcmp(opt, "--size")) {
			o->have_size = true;
			o->size = parse_u64(val, "--size");
		} else if (!strcmp(opt, "--short"))
			o->short_name = val;
		else
			die("unknown option %s", opt);
	}
}

static void set_times(ntfs_volume *vol, u64 mft_no, const struct add_opts *o)
{
	ntfs_inode *ni;

	if (!o->have_time[0] && !o->have_time[1] && !o->have_time[2] && !o->have_time[3])
		return;
	ni = open_checked(vol, mft_no, "set times");
	if (o->have_time[0])
		ni->creation_time = cpu_to_sle64(o->time[0]);
	if (o->have_time[1])
		ni->last_data_change_time = cpu_to_sle64(o->time[1]);
	if (o->have_time[2])
		ni->last_mft_change_time = cpu_to_sle64(o->time[2]);
	if (o->have_time[3])
		ni->last_access_time = cpu_to_sle64(o->time[3]);
	/* written to $STANDARD_INFORMATION and the directory index on close */
	ntfs_inode_mark_dirty(ni);
	NInoFileNameSetDirty(ni);
	if (ntfs_inode_close(ni))
		die("set times: %s", strerror(errno));
}

static void cmd_add(ntfs_volume *vol, const char *path, const struct add_opts *o)
{
	uint8_t *content = NULL;
	size_t clen = 0;
	ntfs_inode *dir, *ni;
	u64 mft_no;

	if (o->content_file && o->hex)
		die("add %s: --content and --hex exclude each other", path);
	if (o->content_file)
		content = read_whole(o->content_file, &clen);
	else if (o->hex)
		content = parse_hex(o->hex, &clen);
	ni = create_file(vol, path, &dir);
	write_data(ni, content, clen, o->have_size ? o->size : clen);
	free(content);
	mft_no = ni->mft_no;
	if (o->short_name) {
		/* closes both inodes */
		if (ntfs_set_ntfs_dos_name(ni, dir, o->short_name, strlen(o->short_name), 0))
			die("add %s: --short %s: %s", path, o->short_name, strerror(errno));
	} else {
		if (ntfs_inode_close_in_dir(ni, dir) || ntfs_inode_close(dir))
			die("add %s: %s", path, strerror(errno));
	}
	set_times(vol, mft_no, o);
}

static void cmd_add_many(ntfs_volume *vol, const char *dpath, const char *prefix, uint64_t count,
			 uint64_t size)
{
	ntfs_inode *dir = open_dir(vol, dpath, true);

	for (uint64_t k = 1; k <= count; k++) {
		char name[512];
		ntfschar *u;
		int len;
		ntfs_inode *ni;

		snprintf(name, sizeof(name), "%s%05" PRIu64 ".sys", prefix, k);
		len = to_ucs(name, &u);
		ni = ntfs_create(dir, const_cpu_to_le32(0), u, (u8)len, S_IFREG);
		if (!ni)
			die("add-many %s: %s", name, strerror(errno));
		free(u);
		if (size)
			write_data(ni, NULL, 0, size);
		if (ntfs_inode_close_in_dir(ni, dir))
			die("add-many %s: %s", name, strerror(errno));
	}
	if (ntfs_inode_close(dir))
		die("add-many: %s", strerror(errno));
}

/* Look up @path (case-sensitive); returns the open inode and its open directory. */
static ntfs_inode *lookup(ntfs_volume *vol, const char *path, ntfs_inode **dir_out)
{
	const char *base;
	char *parent = split_parent(path, &base);
	ntfs_inode *dir = open_dir(vol, parent, false);
	ntfschar *u;
	int len = to_ucs(base, &u);
	u64 mref = ntfs_inode_lookup_by_name(dir, u, len);

	if (mref == (u64)-1)
		die("%s: %s", path, strerror(errno));
	free(u);
	free(parent);
	*dir_out = dir;
	return open_checked(vol, MREF(mref), path);
}

static void cmd_link(ntfs_volume *vol, const char *existing, const char *newpath)
{
	ntfs_inode *odir, *ni, *ndir;
	const char *base;
	char *parent;
	ntfschar *u;
	int len;
	u64 mft_no;

	ni = lookup(vol, existing, &odir);
	mft_no = ni->mft_no;
	if (ntfs_inode_close_in_dir(ni, odir) || ntfs_inode_close(odir))
		die("link: %s", strerror(errno));
	parent = split_parent(newpath, &base);
	ndir = open_dir(vol, parent, true);
	ni = open_checked(vol, mft_no, existing);
	len = to_ucs(base, &u);
	if (ntfs_link(ni, ndir, u, (u8)len))
		die("link %s %s: %s", existing, newpath, strerror(errno));
	free(u);
	free(parent);
	if (ntfs_inode_close_in_dir(ni, ndir) || ntfs_inode_close(ndir))
		die("link: %s", strerror(errno));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void cmd_symlink(ntfs_volume *vol, const char *path, const char *target)
{
	ntfs_inode *dir, *ni;
	ntfschar *ut;
	int tlen = to_ucs(target, &ut);
	bool relative = !(isalpha((unsigned char)target[0]) && target[1] == ':');
	size_t nbytes = (size_t)tlen * 2;
	size_t dlen = 12 + 2 * nbytes; /* substitute name, then print name */
	uint8_t *rp = calloc(1, 8 + dlen);
	uint8_t *pb;

	if (!rp)
		die("out of memory");
	/* backslashes, as Windows stores them */
	for (int i = 0; i < tlen; i++)
		if (le16_to_cpu(ut[i]) == '/')
			ut[i] = cpu_to_le16('\\');
	put32(rp, 0xA000000C); /* IO_REPARSE_TAG_SYMLINK */
	put16(rp + 4, (uint16_t)dlen);
	put16(rp + 8, 0);		  /* substitute name offset */
	put16(rp + 10, (uint16_t)nbytes); /* substitute name length */
	put16(rp + 12, (uint16_t)nbytes); /* print name offset */
	put16(rp + 14, (uint16_t)nbytes); /* print name length */
	put32(rp + 16, relative ? 1 : 0); /* SYMLINK_FLAG_RELATIVE */
	pb = rp + 20;
	memcpy(pb, ut, nbytes);
	memcpy(pb + nbytes, ut, nbytes);
	free(ut);

	ni = create_file(vol, path, &dir);
	if (ntfs_set_ntfs_reparse_data(ni, (const char *)rp, 8 + dlen, 0))
		die("symlink %s: %s", path, strerror(errno));
	free(rp);
	if (ntfs_inode_close_in_dir(ni, dir) || ntfs_inode_close(dir))
		die("symlink %s: %s", path, strerror(errno));
}

static void cmd_hiberfil(ntfs_volume *vol)
{
	static const uint8_t header[] = {'H', 'I', 'B', 'R'};
	ntfs_inode *dir, *ni;

	ni = create_file(vol, "hiberfil.sys", &dir);
	write_data(ni, header, sizeof(header), 8192);
	ni->flags |= FILE_ATTR_HIDDEN | FILE_ATTR_SYSTEM;
	ntfs_inode_mark_dirty(ni);
	if (ntfs_inode_close_in_dir(ni, dir) || ntfs_inode_close(dir))
		die("hiberfil: %s", strerror(errno));
}

static void cmd_dirty_flag(ntfs_volume *vol)
{
	if (ntfs_volume_write_flags(vol, vol->flags | VOLUME_IS_DIRTY))
		die("cannot set the dirty flag: %s", strerror(errno));
}

/*
 * The two restart pages of an LFS 2.0 journal that is open (a client in use)
 * and was not closed cleanly (RESTART_VOLUME_IS_CLEAN clear): what Windows 8+
 * leaves after a crash.
 */
static void cmd_dirty(ntfs_volume *vol)
{
	enum {
		PAGE = 4096,
		RA_OFS = 0x30,
		CA_OFS = 0x40
	};
	ntfs_inode *ni = open_checked(vol, FILE_LogFile, "$LogFile");
	ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	uint8_t *page = malloc(PAGE);
	s64 file_size;
	u32 bits = 0;

	if (!na || !page)
		die("$LogFile: %s", strerror(errno));
	file_size = na->data_size & ~(s64)(PAGE - 1);
	if (file_size < 4 * PAGE)
		die("$LogFile too small");
	for (s64 v = file_size; v; v >>= 1)
		bits++;
	for (int copy = 0; copy < 2; copy++) {
		RESTART_PAGE_HEADER *rp = (RESTART_PAGE_HEADER *)page;
		RESTART_AREA *ra = (RESTART_AREA *)(page + RA_OFS);
		LOG_CLIENT_RECORD *cr = (LOG_CLIENT_RECORD *)(page + RA_OFS + CA_OFS);
		static const char client[] = "NTFS";

		memset(page, 0, PAGE);
		rp->magic = magic_RSTR;
		rp->usa_ofs = cpu_to_le16(0x1e);
		rp->usa_count = cpu_to_le16(1 + PAGE / NTFS_BLOCK_SIZE);
		rp->system_page_size = cpu_to_le32(PAGE);
		rp->log_page_size = cpu_to_le32(PAGE);
		rp->restart_area_offset = cpu_to_le16(RA_OFS);
		rp->minor_ver = cpu_to_sle16(0);
		rp->major_ver = cpu_to_sle16(2);
		ra->current_lsn = cpu_to_sle64(0x100000 + copy);
		ra->log_clients = cpu_to_le16(1);
		ra->client_free_list = LOGFILE_NO_CLIENT;
		ra->client_in_use_list = cpu_to_le16(0);
		ra->flags = cpu_to_le16(0); /* not RESTART_VOLUME_IS_CLEAN */
		ra->seq_number_bits = cpu_to_le32(67 - bits);
		ra->restart_area_length = cpu_to_le16(CA_OFS + sizeof(LOG_CLIENT_RECORD));
		ra->client_array_offset = cpu_to_le16(CA_OFS);
		ra->file_size = cpu_to_sle64(file_size);
		ra->log_record_header_length = cpu_to_le16(0x30);
		ra->log_page_data_offset = cpu_to_le16(0x40);
		ra->restart_log_open_count = cpu_to_le32(0x4c425430);
		cr->oldest_lsn = cpu_to_sle64(0x100000);
		cr->client_restart_lsn = cpu_to_sle64(0x100000);
		cr->prev_client = LOGFILE_NO_CLIENT;
		cr->next_client = LOGFILE_NO_CLIENT;
		cr->client_name_length = cpu_to_le32(8);
		for (int i = 0; client[i]; i++)
			cr->client_name[i] = cpu_to_le16(client[i]);
		if (ntfs_attr_mst_pwrite(na, (s64)copy * PAGE, 1, PAGE, page) != 1)
			die("cannot write the $LogFile restart page: %s", strerror(errno));
	}
	free(page);
	ntfs_attr_close(na);
	if (ntfs_inode_close(ni))
		die("$LogFile: %s", strerror(errno));
	cmd_dirty_flag(vol);
}

struct ls_ctx {
	int count;
};

static int ls_filldir(void *opaque, const ntfschar *name, const int len, const int type,
		      const s64 pos, const MFT_REF mref, const unsigned dt)
{
	struct ls_ctx *c = opaque;
	char *s = NULL;

	(void)pos, (void)dt;
	if (ntfs_ucstombs(name, len, &s, 0) < 0)
		return -1;
	printf("%" PRIu64 " %d %s\n", (uint64_t)MREF(mref), type, s);
	free(s);
	c->count++;
	return 0;
}

static void cmd_ls(ntfs_volume *vol, const char *path)
{
	ntfs_inode *dir = open_dir(vol, path, false);
	struct ls_ctx c = {0};
	s64 pos = 0;

	if (ntfs_readdir(dir, &pos, &c, ls_filldir))
		die("ls %s: %s", path, strerror(errno));
	ntfs_inode_close(dir);
}

/* ---- main ----------------------------------------------------------------- */

static void need(int argc, int i, int n, const char *cmd)
{
	if (i + n > argc)
		die("%s needs %d argument%s", cmd, n, n == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
	ntfs_volume *vol;
	bool only_ls = true;
	bool dirty_seen = false;

	if (argc < 3) {
		fprintf(stderr, "usage: ntfs-fixture VOLUME COMMAND [ARGS]...\n");
		return 1;
	}
	volume_path = argv[1];
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "mkdir") || !strcmp(argv[i], "add") ||
		    !strcmp(argv[i], "add-many") || !strcmp(argv[i], "link") ||
		    !strcmp(argv[i], "symlink") || !strcmp(argv[i], "hiberfil") ||
		    !strcmp(argv[i], "dirty") || !strcmp(argv[i], "dirty-flag"))
			only_ls = false;
	ntfs_log_set_handler(ntfs_log_handler_stderr);
	ntfs_log_clear_levels(NTFS_LOG_LEVEL_INFO | NTFS_LOG_LEVEL_VERBOSE | NTFS_LOG_LEVEL_QUIET |
			      NTFS_LOG_LEVEL_PROGRESS);
	/* a hibernated fixture must stay writable for the commands after "hiberfil" */
	vol = ntfs_mount(volume_path, only_ls ? NTFS_MNT_RDONLY : NTFS_MNT_IGNORE_HIBERFILE);
	if (!vol)
		die("cannot mount: %s", strerror(errno));
	for (int i = 2; i < argc;) {
		const char *cmd = argv[i++];

		if (dirty_seen)
			die("\"dirty\" must be the last command");
		if (!strcmp(cmd, "mkdir")) {
			need(argc, i, 1, cmd);
			cmd_mkdir(vol, argv[i++]);
		} else if (!strcmp(cmd, "add")) {
			struct add_opts o;
			const char *path;

			need(argc, i, 1, cmd);
			path = argv[i++];
			parse_add_opts(argc, argv, &i, &o);
			cmd_add(vol, path, &o);
		} else if (!strcmp(cmd, "add-many")) {
			struct add_opts o;
			const char *dir, *prefix;
			uint64_t count;

			need(argc, i, 3, cmd);
			dir = argv[i];
			prefix = argv[i + 1];
			count = parse_u64(argv[i + 2], "COUNT");
			i += 3;
			parse_add_opts(argc, argv, &i, &o);
			cmd_add_many(vol, dir, prefix, count, o.have_size ? o.size : 0);
		} else if (!strcmp(cmd, "link")) {
			need(argc, i, 2, cmd);
			cmd_link(vol, argv[i], argv[i + 1]);
			i += 2;
		} else if (!strcmp(cmd, "symlink")) {
			need(argc, i, 2, cmd);
			cmd_symlink(vol, argv[i], argv[i + 1]);
			i += 2;
		} else if (!strcmp(cmd, "hiberfil")) {
			cmd_hiberfil(vol);
		} else if (!strcmp(cmd, "dirty-flag")) {
			cmd_dirty_flag(vol);
		} else if (!strcmp(cmd, "dirty")) {
			cmd_dirty(vol);
			dirty_seen = true;
		} else if (!strcmp(cmd, "ls")) {
			need(argc, i, 1, cmd);
			cmd_ls(vol, argv[i++]);
		} else {
			die("unknown command %s", cmd);
		}
	}
	if (ntfs_umount(vol, FALSE))
		die("unmount failed: %s", strerror(errno));
	return 0;
}
