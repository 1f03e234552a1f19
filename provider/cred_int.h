/*
 * cred_int.h - what cred.c and cred_remote.c share: the description of a
 * source of temporary credentials.  Not part of the API (tc.h).
 */
#ifndef SPOTENV_CRED_INT_H
#define SPOTENV_CRED_INT_H

#include "tc.h"

enum tc_cred_kind {
	TC_CRED_CVM_ROLE = 1, /* the instance metadata service */
	TC_CRED_ASSUME_ROLE,  /* STS AssumeRole, signed with `base` */
	TC_CRED_WEB_IDENTITY, /* STS AssumeRoleWithWebIdentity, unsigned */
};

struct tc_cred_spec {
	enum tc_cred_kind kind;
	char *metadata;	  /* CVM role: base URL, no trailing slash */
	char *role_name;  /* CVM role: NULL = ask the metadata service */
	bool last_resort; /* CVM role reached by falling through the chain */
	char *looked;	  /* the places looked at before (last_resort) */
	char *sts;	  /* STS endpoint URL */
	char *region;	  /* X-TC-Region of STS calls */
	char *role_arn;
	char *session_name;
	long duration;	      /* DurationSeconds asked for */
	char *provider_id;    /* web identity */
	char *token_file;     /* web identity: read afresh at each fetch */
	struct tc_cred *base; /* AssumeRole: the credentials that sign it */
	char *base_source;    /* the base's place, for messages */
	int64_t retry_after;  /* a renewal failed while the keys were still
				 valid: not due again before this Unix time */
};

/* New specs (all strings copied); cred.c builds them. */
struct tc_cred_spec *tc_cred_spec_new(enum tc_cred_kind kind);
void tc_cred_spec_free(struct tc_cred_spec *s);

#endif
