/*
 * sysinfo against fake sysfs trees built in a temporary directory: what a
 * device reports is kept, placeholders and unreadable values are reported
 * missing with their reason, virtual adapters and disks are skipped.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/sysinfo.h"

/* Creates every directory leading to root/rel (rel's last part too if
 * dir is set). */
static void
mkdirs(const char *root, const char *rel, int dir)
{
	char path[PATH_MAX], *p;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) <
	    sizeof(path));
	for (p = path + strlen(root) + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	if (dir)
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void
put(const char *root, const char *rel, const char *content)
{
	char path[PATH_MAX];
	FILE *f;

	mkdirs(root, rel, 0);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(content, 1, strlen(content), f),
	    strlen(content));
	assert_int_equal(fclose(f), 0);
}

/* A `device` link as real sysfs has for hardware-backed devices. */
static void
device_link(const char *root, const char *rel)
{
	char path[PATH_MAX];

	mkdirs(root, rel, 0);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink("../../devices/pci0000:00/fake", path), 0);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static int
setup(void **state)
{
	char *root = strdup("/tmp/wg-sysfs-XXXXXX");

	if (root == NULL || mkdtemp(root) == NULL)
		return -1;
	*state = root;
	return 0;
}

static int
teardown(void **state)
{
	char *root = *state;
	int rc = nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	free(root);
	return rc;
}

/* The reason recorded for field, or NULL if it is not missing. */
static const char *
missing(const struct sysinfo *si, const char *field)
{
	size_t i;

	for (i = 0; i < si->nmissing; i++)
		if (strcmp(si->missing[i].field, field) == 0)
			return si->missing[i].reason;
	return NULL;
}

static void
put_dmi(const char *root)
{
	put(root, "class/dmi/id/product_serial", "PF3ABC12\n");
	put(root, "class/dmi/id/sys_vendor", "LENOVO\n");
	put(root, "class/dmi/id/product_name", "  20XW00K1GE  \n");
	put(root, "class/dmi/id/product_family", "ThinkPad X1 Carbon\n");
	put(root, "class/dmi/id/product_sku", "LENOVO_MT_20XW\n");
	put(root, "class/dmi/id/product_uuid",
	    "4c4c4544-0042-3510-8052-b4c04f385331\n");
}

static void
test_sysinfo_collect_full(void **state)
{
	const char *root = *state;
	struct sysinfo *si;

	put_dmi(root);
	put(root, "block/nvme0n1/device/serial", "S4EWNX0R123456      \n");
	device_link(root, "block/nvme0n1/device/link");
	put(root, "class/net/enp0s31f6/address", "8c:16:45:aa:bb:cc\n");
	device_link(root, "class/net/enp0s31f6/device");
	assert_int_equal(sysinfo_collect(root, &si), WG_OK);
	assert_string_equal(si->serial, "PF3ABC12");
	assert_string_equal(si->manufacturer, "LENOVO");
	assert_string_equal(si->model, "20XW00K1GE");
	assert_string_equal(si->family, "ThinkPad X1 Carbon");
	assert_string_equal(si->sku, "LENOVO_MT_20XW");
	assert_string_equal(si->uuid, "4c4c4544-0042-3510-8052-b4c04f385331");
	assert_int_equal(si->ndisks, 1);
	assert_string_equal(si->disk_serials[0], "S4EWNX0R123456");
	assert_int_equal(si->nmacs, 1);
	assert_memory_equal(si->macs[0], "\x8c\x16\x45\xaa\xbb\xcc", 6);
	assert_int_equal(si->nmissing, 0);
	sysinfo_free(si);
}

static void
test_sysinfo_collect_placeholders(void **state)
{
	const char *root = *state;
	struct sysinfo *si;

	put(root, "class/dmi/id/product_serial", "To Be Filled By O.E.M.\n");
	put(root, "class/dmi/id/sys_vendor", "Default string\n");
	put(root, "class/dmi/id/product_name", "System Serial Number\n");
	put(root, "class/dmi/id/product_family", "\n");
	put(root, "class/dmi/id/product_sku", "0\n");
	put(root, "class/dmi/id/product_uuid",
	    "00000000-0000-0000-0000-000000000000\n");
	assert_int_equal(sysinfo_collect(root, &si), WG_OK);
	assert_null(si->serial);
	assert_null(si->manufacturer);
	assert_null(si->model);
	assert_null(si->family);
	assert_null(si->sku);
	assert_null(si->uuid);
	assert_non_null(strstr(missing(si, "product_serial"), "placeholder"));
	assert_non_null(strstr(missing(si, "product_serial"),
	    "To Be Filled By O.E.M."));
	assert_non_null(strstr(missing(si, "sys_vendor"), "placeholder"));
	assert_non_null(strstr(missing(si, "product_name"), "placeholder"));
	assert_string_equal(missing(si, "product_family"), "empty");
	assert_non_null(strstr(missing(si, "product_sku"), "placeholder"));
	assert_non_null(strstr(missing(si, "product_uuid"), "placeholder"));
	sysinfo_free(si);
}

static void
test_sysinfo_collect_absent(void **state)
{
	const char *root = *state;
	struct sysinfo *si;

	/* A container: no DMI, no disks, only loopback. */
	put(root, "class/net/lo/address", "00:00:00:00:00:00\n");
	assert_int_equal(sysinfo_collect(root, &si), WG_OK);
	assert_null(si->serial);
	assert_non_null(strstr(missing(si, "product_serial"), "not reported"));
	assert_non_null(missing(si, "product_uuid"));
	assert_non_null(missing(si, "disks"));
	assert_non_null(missing(si, "macs"));
	assert_int_equal(si->ndisks, 0);
	assert_int_equal(si->nmacs, 0);
	sysinfo_free(si);
}

static void
test_sysinfo_collect_unreadable(void **state)
{
	const char *root = *state;
	struct sysinfo *si;

	put_dmi(root);
	/* Unreadable even for root: a directory where a file should be. */
	{
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/class/dmi/id/product_uuid", root);
		assert_int_equal(remove(p), 0);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	put(root, "class/dmi/id/product_serial", "PF3\x01" "ABC\n");
	if (geteuid() != 0) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/class/dmi/id/product_sku", root);
		assert_int_equal(chmod(p, 0), 0);
	}
	assert_int_equal(sysinfo_collect(root, &si), WG_OK);
	assert_null(si->uuid);
	assert_non_null(strstr(missing(si, "product_uuid"), "directory"));
	assert_null(si->serial);
	assert_string_equal(missing(si, "product_serial"),
	    "not printable text");
	if (geteuid() != 0) {
		assert_null(si->sku);
		assert_non_null(strstr(missing(si, "product_sku"),
		    "permission denied"));
	}
	assert_string_equal(si->manufacturer, "LENOVO");
	sysinfo_free(si);
}

static void
test_sysinfo_collect_too_long(void **state)
{
	const char *root = *state;
	struct sysinfo *si;
	char big[400];

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put_dmi(root);
	put(root, "class/dmi/id/product_name", big);
	assert_int_equal(sysinfo_collect(root, &si), WG_OK);
	assert_null(si->model);
	assert_non_null(strstr(missing(si, "product_name"), "longer than"));
	sysinfo_free(si);
}

static void
put_nic(const char *root, const char *name, const char *mac, int physical,
    const char *assign_type)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "class/net/%s/address", name);
	put(root, rel, mac);
	if (physical) {
		snprintf(rel, sizeof(rel), "class/net/%s/device", name);
		device_link(root, rel);
	}
	if (assign_type != NULL) {
		snprintf(rel, sizeof(rel), "class/net/%s/addr_assign_type",
		    name);
		put(root, rel, assign_type);
	}
}

static void
test_sysinfo_collect_macs(void **state)
{
	const char *root = *state;
	struct sysinfo *si;

	put_nic(root, "lo", "00:00:00:00:00:00\n", 0, NULL);
	put_nic(root, "docker0", "02:42:ac:11:00:01\n", 0, NULL);
	put_nic(root, "veth12ab", "ee:11:22:33:44:55\n", 0, NULL);
	put_nic(root, "wlp2s0", "a4:c3:f0:01:02:03\n", 1, "0\n");
	put_nic(root, "enp0s31f6", "8C:16:45:AA:BB:CC\n", 1, "0\n");
	put_nic(root, "wwan0", "00:00:00:00:00:00\n", 1, NULL);
	put_nic(root, "wlp3s0", "7a:00:11:22:33:44\n", 1, "1\n");
	put_nic(root, "ib0", "80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:"
	    "03:00:0b:1e:71\n", 1, NULL);
	assert_int_equal(sysinfo_collect(root, &si), WG_OK);
	/* Name order: enp0s31f6 before wlp2s0; the rest skipped. */
	assert_int_equal(si->nmacs, 2);
	assert_memory_equal(si->macs[0], "\x8c\x16\x45\xaa\xbb\xcc", 6);
	assert_memory_equal(si->macs[1], "\xa4\xc3\xf0\x01\x02\x03", 6);
	assert_null(missing(si, "macs"));
	sysinfo_free(si);
}

static void
put_disk(const char *root, const char *name, const char *file,
    const char *serial, int physical)
{
	char rel[128];

	if (file != NULL) {
		snprintf(rel, sizeof(rel), "block/%s/%s", name, file);
		put(root, rel, serial);
	}
	if (physical) {
		snprintf(rel, sizeof(rel), "block/%s/device", name);
		mkdirs(root, rel, 1);
	}
	snprintf(rel, sizeof(rel), "block/%s/removable", name);
	put(root, rel, "0\n");
}

static void
test_sysinfo_collect_disks(void **state)
{
	const char *root = *state;
	struct sysinfo *si;
	static const char vpd[] = "\x00\x80\x00\x0d" "  WD-WX12AB34";
	char rel[128], path[PATH_MAX];
	FILE *f;

	put_disk(root, "loop0", "serial", "LOOPSERIAL\n", 1);
	put_disk(root, "ram0", "serial", "RAMSERIAL\n", 1);
	put_disk(root, "dm-0", "serial", "DMSERIAL\n", 1);
	put_disk(root, "zram0", "serial", "ZRAMSERIAL\n", 1);
	put_disk(root, "xvirt0", "serial", "NODEVICE\n", 0);
	put_disk(root, "nvme0n1", "device/serial", "S4EWNX0R123456\n", 1);
	put_disk(root, "nvme0n2", "device/serial", "S4EWNX0R123456\n", 1);
	put_disk(root, "vda", "serial", "virtio-disk-7\n", 1);
	put_disk(root, "sdb", NULL, NULL, 1);
	put_disk(root, "sdc", "device/serial", "USBSTICK\n", 1);
	put(root, "block/sdc/removable", "1\n");
	put_disk(root, "sda", NULL, NULL, 1);
	snprintf(rel, sizeof(rel), "block/sda/device/vpd_pg80");
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(vpd, 1, sizeof(vpd) - 1, f), sizeof(vpd) - 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(sysinfo_collect(root, &si), WG_OK);
	assert_int_equal(si->ndisks, 3);
	assert_string_equal(si->disk_serials[0], "S4EWNX0R123456");
	assert_string_equal(si->disk_serials[1], "WD-WX12AB34");
	assert_string_equal(si->disk_serials[2], "virtio-disk-7");
	assert_string_equal(missing(si, "disk sdb"),
	    "no serial number reported");
	assert_null(missing(si, "disk sdc"));
	assert_null(missing(si, "disk loop0"));
	assert_null(missing(si, "disks"));
	sysinfo_free(si);
}

static void
test_sysinfo_collect_bad_root(void **state)
{
	struct sysinfo dummy, *si = &dummy;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nonexistent", (char *)*state);
	assert_int_equal(sysinfo_collect(path, &si), WG_E_IO);
	assert_null(si);
}

static void
test_sysinfo_root_env(void **state)
{
	(void)state;
	assert_int_equal(unsetenv(SYSINFO_ROOT_ENV), 0);
	assert_string_equal(sysinfo_root(), "/sys");
	assert_int_equal(setenv(SYSINFO_ROOT_ENV, "/tmp/fake", 1), 0);
	assert_string_equal(sysinfo_root(), "/tmp/fake");
	assert_int_equal(unsetenv(SYSINFO_ROOT_ENV), 0);
}

static void
test_sysinfo_is_placeholder_cases(void **state)
{
	(void)state;
	assert_true(sysinfo_is_placeholder("To be filled by O.E.M."));
	assert_true(sysinfo_is_placeholder("DEFAULT STRING"));
	assert_true(sysinfo_is_placeholder("0"));
	assert_true(sysinfo_is_placeholder("000000"));
	assert_true(sysinfo_is_placeholder("FFFFFFFF-FFFF-FFFF-FFFF-"
	    "FFFFFFFFFFFF"));
	assert_true(sysinfo_is_placeholder(""));
	assert_false(sysinfo_is_placeholder("PF3ABC12"));
	assert_false(sysinfo_is_placeholder("0A1"));
	assert_false(sysinfo_is_placeholder("VMware-56 4d"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sysinfo_collect_full,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sysinfo_collect_placeholders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysinfo_collect_absent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sysinfo_collect_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysinfo_collect_too_long,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysinfo_collect_macs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysinfo_collect_disks,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysinfo_collect_bad_root,
		    setup, teardown),
		cmocka_unit_test(test_sysinfo_root_env),
		cmocka_unit_test(test_sysinfo_is_placeholder_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
