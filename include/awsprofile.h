/* awsprofile: the AWS shared config and credentials files (~/.aws/config, ~/.aws/credentials), read as
 * the SDKs read them (aws-c-sdkutils' aws_profile.c is the model), and the credential source a profile
 * names. Parsing is pure; awsprofile_load_file and awsprofile_files_load read files by path, nothing else.
 *
 * File rules (a line is one of these, judged in this order):
 * - blank, or starting with '#' or ';' in column 0: ignored;
 * - '[' in column 0: a section. In the config file `[default]`, `[profile NAME]`, `[services NAME]`,
 *   `[sso-session NAME]`; any other `[NAME]` there is ignored with its properties. In the credentials
 *   file `[NAME]` only (a `profile ` prefix makes it ignored). Names are [A-Za-z0-9_\-/.%@:+]+ and
 *   case-sensitive; spaces may surround them inside the brackets; a comment may follow ']' (any '#'
 *   or ';'). In the config file `[profile default]` beats `[default]` whichever comes first. A section
 *   seen twice is one section;
 * - starting with a space or tab: continues the property above: its value gains "\n" + the trimmed
 *   line, comments included (no comments on continuation lines). Under a property with an empty value
 *   (`dynamodb =`) each continuation is a sub-property `key = value`;
 * - else a property `key = value`: both trimmed, a comment starts at ' #', ' ;', '\t#' or '\t;' (so
 *   "a#b" is a value), the last of a key in a section wins. Keys are case-insensitive (stored in lower
 *   case), as in botocore and the Go SDK (aws-c-sdkutils compares them as written).
 * Fatal, as in the SDKs (the whole file is refused, the line number named, never its text): a section
 * line without ']', a property before any section, a non-blank line without '=', a continuation with
 * no property above it in a valid section. Recoverable (the section or property is skipped): bad
 * names, keys that are not identifiers, prefixes in the credentials file. Unlike aws-c-sdkutils (and
 * like the Rust SDK), a continuation under a skipped section is skipped rather than fatal. */
#ifndef USERSVC_AWSPROFILE_H
#define USERSVC_AWSPROFILE_H

#include <stddef.h>

#include "buf.h"

enum awsprofile_file {
    AWSPROFILE_CONFIG,      /* ~/.aws/config: [profile NAME], [services NAME] */
    AWSPROFILE_CREDENTIALS, /* ~/.aws/credentials: [NAME] */
};

enum awsprofile_section {
    AWSPROFILE_SECTION_PROFILE,
    AWSPROFILE_SECTION_SERVICES,
    AWSPROFILE_SECTION_SSO_SESSION,
};

/* Parsed sections and their properties. Opaque. */
struct awsprofile_set;

/* Parses len bytes of text (need not be NUL-terminated; "\r\n" line ends are fine) as a file of the
 * given kind. Returns a new set (free with awsprofile_set_free), or NULL with one line in err
 * ("line N: ..." for a fatal syntax error, or out of memory). text is borrowed for the call. */
struct awsprofile_set *awsprofile_parse(const char *text, size_t len, enum awsprofile_file kind, struct buf *err);

/* Reads the file at path and parses it. A file that does not exist (or whose directory does not) is
 * an empty set, not an error, as in the SDKs; a file that cannot be read or is over 4 MiB is an error
 * naming path. Returns a new set, or NULL with one line in err. */
struct awsprofile_set *awsprofile_load_file(const char *path, enum awsprofile_file kind, struct buf *err);

/* A new set holding config's sections with credentials' laid over them: for the same section and key
 * the credentials file wins (sub-properties merge key by key). Either argument may be NULL. Returns
 * NULL when memory runs out. The arguments stay the caller's. */
struct awsprofile_set *awsprofile_merge(const struct awsprofile_set *config, const struct awsprofile_set *credentials);

/* Accepts NULL. */
void awsprofile_set_free(struct awsprofile_set *set);

/* 1 when the set has a section of that type and name, else 0. */
int awsprofile_exists(const struct awsprofile_set *set, enum awsprofile_section type, const char *name);

/* The value of key (any case) in the profile, or NULL when absent. "" for `key =`. Borrowed from
 * set, valid until awsprofile_set_free. set may be NULL (nothing is found). */
const char *awsprofile_get(const struct awsprofile_set *set, const char *profile, const char *key);

/* The sub-property subkey of key in the section (type, name), or NULL. Borrowed from set. */
const char *awsprofile_get_sub(const struct awsprofile_set *set, enum awsprofile_section type, const char *name,
                               const char *key, const char *subkey);

/* A service's setting through the profile's `services = NAME` and its [services NAME] section:
 * awsprofile_service_get(set, "default", "dynamodb", "endpoint_url"). NULL when any link is missing.
 * Borrowed from set. */
const char *awsprofile_service_get(const struct awsprofile_set *set, const char *profile, const char *service,
                                   const char *key);

/* ~ and ~/rest name home's directory (other paths are kept as they are). Appends the expanded path
 * to out. Returns 0, or -1 when path needs home and home is NULL or empty (nothing appended), or
 * when memory runs out. */
int awsprofile_expand_home(const char *path, const char *home, struct buf *out);

/* The files and profile the environment names, loaded and merged. */
struct awsprofile_files {
    char *profile;          /* AWS_PROFILE, else "default" */
    int profile_from_env;   /* AWS_PROFILE was set: the SDKs fail when that profile does not exist */
    char *config_path;      /* AWS_CONFIG_FILE, else ~/.aws/config; NULL without HOME to expand ~ */
    char *credentials_path; /* AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials; same */
    struct awsprofile_set *set; /* both files merged (credentials win); never NULL after success */
};

/* Reads AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and HOME through lookup (getenv-like;
 * NULL or "" = unset) and loads both files (missing files are empty). Returns 0, or -1 with one line
 * in err naming the file. files is caller storage, always safe to pass to awsprofile_files_clean_up. */
int awsprofile_files_load(struct awsprofile_files *files, const char *(*lookup)(const char *name, void *ctx),
                          void *ctx, struct buf *err);

void awsprofile_files_clean_up(struct awsprofile_files *files);

/* Where a profile's credentials come from, as a chain: steps[0] yields credentials by itself, each
 * later step assumes its role_arn (STS AssumeRole) with the credentials of the step before. */
enum awsprofile_kind {
    AWSPROFILE_STATIC,          /* aws_access_key_id, aws_secret_access_key, optional aws_session_token */
    AWSPROFILE_WEB_IDENTITY,    /* role_arn + web_identity_token_file (AssumeRoleWithWebIdentity) */
    AWSPROFILE_PROCESS,         /* credential_process: a command printing JSON (Version 1) */
    AWSPROFILE_CREDENTIAL_SOURCE, /* credential_source: Environment, Ec2InstanceMetadata or EcsContainer */
    AWSPROFILE_ASSUME_ROLE,     /* role_arn assumed with the previous step's credentials */
};

struct awsprofile_step {
    enum awsprofile_kind kind;
    const char *profile;           /* the profile the step comes from */
    const char *access_key_id;     /* STATIC */
    const char *secret_access_key; /* STATIC */
    const char *session_token;     /* STATIC; NULL when absent or empty */
    const char *role_arn;          /* WEB_IDENTITY, ASSUME_ROLE */
    const char *role_session_name; /* WEB_IDENTITY, ASSUME_ROLE; NULL: the caller generates one */
    const char *external_id;       /* ASSUME_ROLE; NULL when absent */
    const char *web_identity_token_file; /* WEB_IDENTITY */
    const char *credential_process;      /* PROCESS */
    const char *credential_source;       /* CREDENTIAL_SOURCE */
};

#define AWSPROFILE_MAX_CHAIN 8

struct awsprofile_chain {
    struct awsprofile_step steps[AWSPROFILE_MAX_CHAIN];
    size_t len; /* 0: the profile does not exist or names no credentials */
};

/* Resolves profile's credential source, following source_profile links with loop detection, as the
 * SDKs do: role_arn (with source_profile, credential_source or web_identity_token_file) beats static
 * keys, which beat credential_process; a source_profile naming its own profile uses that profile's
 * static keys as the base. Returns 0 (chain->len 0 when the profile is absent or has no credential
 * settings), or -1 with one line in err for a profile that is misconfigured (a loop, a missing
 * secret, a role_arn with nothing to assume it with, a source_profile that does not exist, an
 * unknown credential_source, SSO settings, which this service does not support). Never puts a
 * secret in err. The chain's strings are borrowed from set. */
int awsprofile_resolve_credentials(const struct awsprofile_set *set, const char *profile,
                                   struct awsprofile_chain *chain, struct buf *err);

#endif
