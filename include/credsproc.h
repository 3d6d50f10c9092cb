/* credsproc: the credential_process provider. The command (run by /bin/sh -c,
 * stdin and stderr on /dev/null so nothing it prints reaches our log) runs on
 * a thread of its own, never on an event loop; its standard output (at most
 * 64 KiB) is parsed as
 * Version 1 JSON (credsparse_process_json) and the answer is delivered on the
 * credentials loop (credsio.h). Expiration is honoured; without one the keys
 * never expire. */
#ifndef USERSVC_CREDSPROC_H
#define USERSVC_CREDSPROC_H

#include "creds.h"
#include "credsio.h"

#define CREDSPROC_TIMEOUT_MS 60000
#define CREDSPROC_MAX_OUTPUT 65536

/* command is copied; io is borrowed and outlives the provider. name is what
 * logs show ("process (profile dev)"). The command runs in a process group of
 * its own and must have printed and exited within timeout_ms (0:
 * CREDSPROC_TIMEOUT_MS), else the whole group is killed and the get fails.
 * Returns NULL when memory runs out. Destroying it while the command runs
 * kills the group and waits for the command. */
struct creds_provider *credsproc_new(struct credsio *io, const char *command, const char *name, long timeout_ms);

#endif
