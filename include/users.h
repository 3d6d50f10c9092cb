/* users: the /users handlers. Each parses and validates without I/O, then
 * runs its DynamoDB steps as continuations on the ddb loop. */
#ifndef USERSVC_USERS_H
#define USERSVC_USERS_H

#include "router.h"

route_handler users_create, users_get, users_list, users_by_email, users_patch, users_delete;

#endif
