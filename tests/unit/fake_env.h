/* fake_env.h: a fake environment for the modules that read settings through a
 * getenv-like lookup (config, awsprofile, awsendpoint, credsparse, retryquota):
 * up to FAKE_ENV_MAX name/value pairs, the first NULL name ends them. */
#ifndef USERSVC_FAKE_ENV_H
#define USERSVC_FAKE_ENV_H

#include <stddef.h>
#include <string.h>

#define FAKE_ENV_MAX 32

struct fake_env {
    const char *pairs[FAKE_ENV_MAX][2];
};

/* The lookup to pass with a struct fake_env * as its context. */
static inline const char *fake_env_lookup(const char *name, void *ctx)
{
    const struct fake_env *env = ctx;
    for (size_t i = 0; i < FAKE_ENV_MAX && env->pairs[i][0] != NULL; i++)
        if (strcmp(env->pairs[i][0], name) == 0)
            return env->pairs[i][1];
    return NULL;
}

#endif
