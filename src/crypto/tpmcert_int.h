/*
 * What tpmcert.c (issuing) and tpmcert_verify.c (checking) share: the
 * OIDs of the TPM names and of the assurance policies, in one place.
 */
#ifndef WG_TPMCERT_INT_H
#define WG_TPMCERT_INT_H

#include "crypto/tpmcert.h"

/* The TPM attributes of the EK certificate's SAN directoryName. */
enum tpmcert_attr { ATTR_MANUFACTURER, ATTR_MODEL, ATTR_VERSION, ATTR_MAX };

/* Their OIDs (2.23.133.2.1-3) and names, by enum tpmcert_attr. */
extern const char *const tpmcert_attr_oid[ATTR_MAX];
extern const char *const tpmcert_attr_name[ATTR_MAX];

/* The AIK's certificatePolicies OID for each assurance. */
extern const char *const tpmcert_assurance_oid[TPMCERT_ASSURANCE_MAX];

#endif
