/* cursor: the opaque, tamper-evident pagination cursor of GET /users. It
 * carries the id to continue after, with an HMAC-SHA256 tag under a key every
 * replica shares (CURSOR_SECRET, else the table name), so any replica reads
 * any other's cursors and an edited one is refused. */
#ifndef USERSVC_CURSOR_H
#define USERSVC_CURSOR_H

#define CURSOR_MAX_ID 1024

/* Returns a new base64url cursor for id (caller frees), or NULL. */
char *cursor_encode(const char *key, const char *id);

/* Returns the id inside a cursor (caller frees), or NULL when it is malformed
 * or was not made by cursor_encode under this key. */
char *cursor_decode(const char *key, const char *cursor);

#endif
