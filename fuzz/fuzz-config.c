/*
 * fuzz-config.c - the configuration parser (config.c, confval.c) fed a
 * whole file's text, then the cross-key checks and a deep copy.
 * Invariants: an error message is a terminated line naming the file; a
 * failed parse leaves a configuration that config_check, config_copy and
 * config_free still handle; nothing leaks (LeakSanitizer).
 */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, copy;
	char err[512];
	int rc;

	config_init(&c);
	err[0] = '\0';
	rc = config_parse(&c, (const char *)data, size, "fuzz.conf", err,
	    sizeof(err));
	CHECK(rc == 0 || rc == -1);
	CHECK(fz_terminated(err, sizeof(err)));
	if (rc == -1) {
		CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
		CHECK(fz_printable(err, strlen(err)));
	}
	err[0] = '\0';
	if (config_check(&c, err, sizeof(err)) == -1)
		CHECK(err[0] != '\0' && fz_terminated(err, sizeof(err)));
	config_copy(&copy, &c);
	(void)config_skip_domain(&copy, "example.com");
	(void)config_route(&copy, "example.com");
	(void)config_admin_user(&copy, "root");
	config_free(&copy);
	config_free(&c);
	return 0;
}
