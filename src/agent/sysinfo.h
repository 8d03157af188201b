/*
 * The device's hardware identity as Linux exposes it in sysfs: SMBIOS
 * strings (/sys/class/dmi/id), the MAC addresses of physical network
 * adapters and the serial numbers of physical disks.  Nothing is ever
 * invented: a value the device does not report (absent, unreadable, empty
 * or an OEM placeholder such as "To Be Filled By O.E.M.") is left NULL and
 * listed in `missing` with the reason.
 */
#ifndef WG_AGENT_SYSINFO_H
#define WG_AGENT_SYSINFO_H

#include <stddef.h>

#include "common/errors.h"
#include "crypto/hwhash.h"

#define SYSINFO_ROOT_ENV "WHITEGLOVE_SYSFS_ROOT"
#define SYSINFO_ROOT_DEFAULT "/sys"
#define SYSINFO_MAX_MISSING 64
#define SYSINFO_MAX_REASON 160

/* One value the device did not report, and why. */
struct sysinfo_missing {
	char field[32];	/* "product_serial", "disk sda serial", "macs" */
	char reason[SYSINFO_MAX_REASON];
};

/* What sysinfo_collect() found; strings are NULL when missing. */
struct sysinfo {
	char *serial;	    /* product_serial */
	char *manufacturer; /* sys_vendor */
	char *model;	    /* product_name */
	char *family;	    /* product_family */
	char *sku;	    /* product_sku */
	char *uuid;	    /* product_uuid */
	char *disk_serials[HWHASH_MAX_DISKS];
	size_t ndisks;
	unsigned char macs[HWHASH_MAX_MACS][6];
	size_t nmacs;
	struct sysinfo_missing missing[SYSINFO_MAX_MISSING];
	size_t nmissing;
};

/* The sysfs root: $WHITEGLOVE_SYSFS_ROOT, else "/sys".  Borrowed. */
const char *sysinfo_root(void);

/*
 * Reads the identity under root (a sysfs tree; NULL: sysinfo_root()).
 * Disks and adapters are taken in name order, so two runs on the same
 * device agree.  Missing values are not an error.  On success *out is new
 * and the caller frees it with sysinfo_free(); WG_E_IO only if root itself
 * cannot be opened.
 */
enum wg_err sysinfo_collect(const char *root, struct sysinfo **out)
    __attribute__((warn_unused_result));

void sysinfo_free(struct sysinfo *si);

/*
 * 1 if s (already trimmed) is a value firmware writes when the OEM left
 * the field unset: "To Be Filled By O.E.M.", "Default string", "System
 * Serial Number", "0", only zeros, ...
 */
int sysinfo_is_placeholder(const char *s);

#endif
