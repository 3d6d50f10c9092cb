/* b64url: base64url without padding (RFC 4648 §5), as JOSE writes it (RFC 7515 §2). Pure. */
#ifndef USERSVC_B64URL_H
#define USERSVC_B64URL_H

#include <stddef.h>

/* Bytes that decoding len characters yields (an upper bound for malformed text). */
static inline size_t b64url_decoded_max(size_t len) { return len / 4 * 3 + 2; }

/* Strict decoding of text[0..len) into out (b64url_decoded_max(len) bytes):
 * only A-Z a-z 0-9 - _, no padding, no white space, a length that is not 1
 * mod 4, and unused trailing bits zero (so every byte string has exactly one
 * accepted text: a token cannot be altered without changing its signature
 * input). Returns the decoded length, or -1 when the text is malformed. */
long b64url_decode(const char *text, size_t len, unsigned char *out);

/* Encodes data[0..len) into out (4 * ceil(len / 3) + 1 bytes is enough) and
 * NUL-terminates it. Returns the text's length. */
size_t b64url_encode(const unsigned char *data, size_t len, char *out);

#endif
