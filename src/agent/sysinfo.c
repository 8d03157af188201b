/*
 * The device's hardware identity from sysfs (see sysinfo.h).  Every file
 * is read with a small cap; values are trimmed and checked (printable
 * UTF-8, at most HWHASH_MAX_STR - 1 bytes, not a placeholder) before they
 * are kept, so the hash encoder never sees anything it would refuse.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/sysinfo.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define SYSFS_READ_MAX 4096 /* sysfs attributes are one page at most */
#define VPD_PG80_HEADER 4

/* The SMBIOS strings: file under class/dmi/id and where it goes. */
struct dmi_field {
	const char *file;
	size_t offset; /* of the char * in struct sysinfo */
};

static const struct dmi_field dmi_fields[] = {
	{ "product_serial", offsetof(struct sysinfo, serial) },
	{ "sys_vendor", offsetof(struct sysinfo, manufacturer) },
	{ "product_name", offsetof(struct sysinfo, model) },
	{ "product_family", offsetof(struct sysinfo, family) },
	{ "product_sku", offsetof(struct sysinfo, sku) },
	{ "product_uuid", offsetof(struct sysinfo, uuid) },
};

/* Block devices that are never a physical disk. */
static const char *const virtual_disks[] = {
	"loop", "ram", "dm-", "zram", "md", "nbd", "zd", "drbd", "rbd",
	"fd", NULL,
};

/* What OEMs leave in SMBIOS strings they did not fill in (any case). */
static const char *const placeholders[] = {
	"To Be Filled By O.E.M.", "To Be Filled By O.E.M", "Default string",
	"Default", "System Serial Number", "System Product Name",
	"System manufacturer", "System Version", "System SKU", "SKU",
	"Chassis Serial Number", "Base Board Serial Number", "Serial",
	"Not Specified", "Not Applicable", "Not Available", "Not Set", "None",
	"N/A", "NA", "OEM", "O.E.M.", "Invalid", "Unknown",
	"Type1ProductConfigId", "0123456789", "123456789", "1234567890",
	"03000200-0400-0500-0006-000700080009", NULL,
};

const char *
sysinfo_root(void)
{
	const char *s = getenv(SYSINFO_ROOT_ENV);

	return s != NULL && *s != '\0' ? s : SYSINFO_ROOT_DEFAULT;
}

/* 1 if every character of s is in set. */
static int
all_of(const char *s, const char *set)
{
	for (; *s != '\0'; s++)
		if (strchr(set, *s) == NULL)
			return 0;
	return 1;
}

int
sysinfo_is_placeholder(const char *s)
{
	size_t i;

	if (*s == '\0' || all_of(s, "0-. ") || all_of(s, "Ff-") ||
	    all_of(s, "Xx-"))
		return 1;
	for (i = 0; placeholders[i] != NULL; i++)
		if (strcasecmp(s, placeholders[i]) == 0)
			return 1;
	return 0;
}

static void __attribute__((format(printf, 3, 4)))
missing_add(struct sysinfo *si, const char *field, const char *fmt, ...)
{
	struct sysinfo_missing *m;
	va_list ap;

	if (si->nmissing >= SYSINFO_MAX_MISSING)
		return;
	m = &si->missing[si->nmissing++];
	snprintf(m->field, sizeof(m->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(m->reason, sizeof(m->reason), fmt, ap);
	va_end(ap);
}

/*
 * Reads at most len - 1 bytes of root/rel into buf, NUL-terminated;
 * returns the byte count, or -1 with errno set (ENAMETOOLONG if the path
 * does not fit).
 */
static ssize_t
read_file(const char *root, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = 0, total = 0;
	int fd, saved;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -1;
	while ((size_t)total < len - 1) {
		n = read(fd, buf + total, len - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	buf[total] = '\0';
	return total;
}

/* 1 if root/rel exists (a link or a directory; links not followed). */
static int
path_exists(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >=
	    sizeof(path))
		return 0;
	return lstat(path, &st) == 0;
}

/* Trims white space at both ends of s in place; returns the start. */
static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Why a sysfs read failed, for an admin. */
static const char *
read_error(int err)
{
	if (err == ENOENT)
		return "not reported (no such file)";
	if (err == EACCES || err == EPERM)
		return "not readable: permission denied (run as root)";
	return strerror(err);
}

/*
 * Checks a trimmed value; returns a copy the caller frees, or NULL after
 * recording why it is unusable under `field`.
 */
static char *
value_check(struct sysinfo *si, const char *field, const char *v)
{
	if (*v == '\0')
		missing_add(si, field, "empty");
	else if (strlen(v) >= HWHASH_MAX_STR)
		missing_add(si, field, "longer than %d bytes",
		    HWHASH_MAX_STR - 1);
	else if (!wg_str_printable(v))
		missing_add(si, field, "not printable text");
	else if (sysinfo_is_placeholder(v))
		missing_add(si, field, "placeholder value '%s'", v);
	else
		return xstrdup(v);
	return NULL;
}

/* root/rel as a checked string (see value_check); NULL if missing. */
static char *
read_value(struct sysinfo *si, const char *root, const char *rel,
    const char *field)
{
	char buf[SYSFS_READ_MAX];

	if (read_file(root, rel, buf, sizeof(buf)) < 0) {
		missing_add(si, field, "%s", read_error(errno));
		return NULL;
	}
	return value_check(si, field, trim(buf));
}

static void
collect_dmi(struct sysinfo *si, const char *root)
{
	char rel[64];
	size_t i;

	for (i = 0; i < sizeof(dmi_fields) / sizeof(dmi_fields[0]); i++) {
		snprintf(rel, sizeof(rel), "class/dmi/id/%s",
		    dmi_fields[i].file);
		*(char **)((char *)si + dmi_fields[i].offset) =
		    read_value(si, root, rel, dmi_fields[i].file);
	}
}


/* Parses "aa:bb:cc:dd:ee:ff" exactly; -1 for anything else. */
static int
mac_parse(const char *s, unsigned char mac[6])
{
	int i, hi, lo;

	if (strlen(s) != 17)
		return -1;
	for (i = 0; i < 6; i++) {
		hi = wg_hex_value(s[3 * i]);
		lo = wg_hex_value(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Adds the permanent MAC of adapter `name` if it is a physical one. */
static void
collect_mac(struct sysinfo *si, const char *root, const char *name)
{
	static const unsigned char zero[6];
	char rel[NAME_MAX + 32], buf[64];
	unsigned char mac[6];
	size_t i;

	snprintf(rel, sizeof(rel), "class/net/%s/device", name);
	if (strcmp(name, "lo") == 0 || !path_exists(root, rel))
		return; /* loopback, bridge, veth, tun, ...: not hardware */
	snprintf(rel, sizeof(rel), "class/net/%s/addr_assign_type", name);
	if (read_file(root, rel, buf, sizeof(buf)) > 0 &&
	    strcmp(trim(buf), "1") == 0)
		return; /* a random MAC changes every boot */
	snprintf(rel, sizeof(rel), "class/net/%s/address", name);
	if (read_file(root, rel, buf, sizeof(buf)) < 0 ||
	    mac_parse(trim(buf), mac) != 0 || memcmp(mac, zero, 6) == 0)
		return; /* not Ethernet-style (InfiniBand, CAN) or unset */
	for (i = 0; i < si->nmacs; i++)
		if (memcmp(si->macs[i], mac, 6) == 0)
			return;
	if (si->nmacs == HWHASH_MAX_MACS) {
		missing_add(si, "macs", "more than %d adapters; %s and later "
		    "not recorded", HWHASH_MAX_MACS, name);
		return;
	}
	memcpy(si->macs[si->nmacs++], mac, 6);
}

/* The names in root/rel in alphabetical order ("." entries skipped). */
static int
list_dir(const char *root, const char *rel, struct dirent ***names)
{
	char path[PATH_MAX];

	*names = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >=
	    sizeof(path))
		return -1;
	return scandir(path, names, NULL, alphasort);
}

/* Calls fn for every entry of root/rel not starting with a dot. */
static void
each_entry(struct sysinfo *si, const char *root, const char *rel,
    void (*fn)(struct sysinfo *, const char *, const char *))
{
	struct dirent **names;
	int i, n;

	if ((n = list_dir(root, rel, &names)) < 0)
		return;
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			fn(si, root, names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

/*
 * The serial of a SCSI/SATA disk from its unit serial number VPD page
 * (SPC-4 7.8.15: byte 1 page code 0x80, bytes 2-3 the length); -1 if
 * there is none.
 */
static int
vpd_pg80_serial(const char *root, const char *name, char *out, size_t len)
{
	char rel[NAME_MAX + 32], buf[512];
	ssize_t n;
	size_t slen;

	snprintf(rel, sizeof(rel), "block/%s/device/vpd_pg80", name);
	if ((n = read_file(root, rel, buf, sizeof(buf))) < VPD_PG80_HEADER ||
	    (unsigned char)buf[1] != 0x80)
		return -1;
	slen = (size_t)((unsigned char)buf[2] << 8 | (unsigned char)buf[3]);
	if (slen > (size_t)n - VPD_PG80_HEADER || slen >= len)
		return -1;
	memcpy(out, buf + VPD_PG80_HEADER, slen);
	out[slen] = '\0';
	return 0;
}

/* The raw serial of disk `name` (NVMe, virtio, SCSI VPD); -1 if none. */
static int
disk_serial_raw(const char *root, const char *name, char *out, size_t len)
{
	static const char *const files[] = { "device/serial", "serial" };
	char rel[NAME_MAX + 32];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), "block/%s/%s", name, files[i]);
		if (read_file(root, rel, out, len) > 0 && *trim(out) != '\0')
			return 0;
	}
	return vpd_pg80_serial(root, name, out, len);
}

/* 1 if block device `name` is a fixed physical disk. */
static int
disk_is_physical(const char *root, const char *name)
{
	char rel[NAME_MAX + 32], buf[16];
	size_t i;

	for (i = 0; virtual_disks[i] != NULL; i++)
		if (strncmp(name, virtual_disks[i],
		    strlen(virtual_disks[i])) == 0)
			return 0;
	snprintf(rel, sizeof(rel), "block/%s/device", name);
	if (!path_exists(root, rel))
		return 0;
	snprintf(rel, sizeof(rel), "block/%s/removable", name);
	/* USB sticks and card readers come and go; they name no device. */
	return !(read_file(root, rel, buf, sizeof(buf)) > 0 &&
	    strcmp(trim(buf), "1") == 0);
}

static void
collect_disk(struct sysinfo *si, const char *root, const char *name)
{
	char raw[SYSFS_READ_MAX], field[32], *serial;
	size_t i;

	if (!disk_is_physical(root, name))
		return;
	snprintf(field, sizeof(field), "disk %s", name);
	if (disk_serial_raw(root, name, raw, sizeof(raw)) != 0) {
		missing_add(si, field, "no serial number reported");
		return;
	}
	if ((serial = value_check(si, field, trim(raw))) == NULL)
		return;
	for (i = 0; i < si->ndisks; i++)
		if (strcmp(si->disk_serials[i], serial) == 0) {
			free(serial); /* namespaces of one NVMe drive */
			return;
		}
	if (si->ndisks == HWHASH_MAX_DISKS) {
		missing_add(si, "disks", "more than %d disks; %s and later "
		    "not recorded", HWHASH_MAX_DISKS, name);
		free(serial);
		return;
	}
	si->disk_serials[si->ndisks++] = serial;
}

enum wg_err
sysinfo_collect(const char *root, struct sysinfo **out)
{
	struct sysinfo *si;
	struct stat st;

	*out = NULL;
	if (root == NULL)
		root = sysinfo_root();
	if (stat(root, &st) != 0) {
		wg_error("sysfs root %s: %s", root, strerror(errno));
		return WG_E_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		wg_error("sysfs root %s: not a directory", root);
		return WG_E_IO;
	}
	si = xcalloc(1, sizeof(*si));
	collect_dmi(si, root);
	each_entry(si, root, "block", collect_disk);
	if (si->ndisks == 0)
		missing_add(si, "disks", "no physical disk with a serial "
		    "number found");
	each_entry(si, root, "class/net", collect_mac);
	if (si->nmacs == 0)
		missing_add(si, "macs", "no physical network adapter found");
	*out = si;
	return WG_OK;
}

void
sysinfo_free(struct sysinfo *si)
{
	size_t i;

	if (si == NULL)
		return;
	free(si->serial);
	free(si->manufacturer);
	free(si->model);
	free(si->family);
	free(si->sku);
	free(si->uuid);
	for (i = 0; i < si->ndisks; i++)
		free(si->disk_serials[i]);
	free(si);
}
