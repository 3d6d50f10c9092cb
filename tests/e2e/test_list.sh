# shellcheck shell=bash
# GET /users?limit=N&cursor=C over more data than one DynamoDB Scan page (1 MB).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=$E2E_TMP/list.$$
mkdir -p "$dir"

# ---- data: 60 users with a 20 KB bio (> 1 MB in all) and 6 small ones ----------
bio=$(head -c 15000 /dev/urandom | base64 -w0 | head -c 20000)
for i in $(seq 1 66); do
	if ((i <= 60)); then
		jq -nc --arg e "$(uniq_email "list$i")" --arg b "$bio" --argjson i "$i" \
			'{name: ("Big " + ($i|tostring)), email: $e, bio: $b, n: $i}' >"$dir/in.$i"
	else
		jq -nc --arg e "$(uniq_email "list$i")" --argjson i "$i" \
			'{name: ("Small " + ($i|tostring)), email: $e, n: $i}' >"$dir/in.$i"
	fi
done
seq 1 66 | xargs -P 8 -I{} curl -sS --max-time 30 -o "$dir/out.{}" -w '%{http_code}\n' \
	-X POST -H 'Content-Type: application/json' --data-binary "@$dir/in.{}" "$BASE_URL/users" \
	>"$dir/codes" 2>"$dir/curl.err"
n201=$(grep -c '^201$' "$dir/codes")
REQ_DESC="POST /users x66 (8 in parallel)" STATUS="" BODY="$(sort "$dir/codes" | uniq -c | tr '\n' ' ')"
check "66 list-test users created (got $n201 answers 201)" test "$n201" -eq 66
: >"$dir/ids"
for i in $(seq 1 66); do jq -r '.id // empty' "$dir/out.$i" 2>/dev/null >>"$dir/ids"; done
nids=$(sort -u "$dir/ids" | wc -l)
check "66 distinct ids returned by the creates (got $nids)" test "$nids" -eq 66

# walk LIMIT: follow Link rel=next from /users?limit=LIMIT; every page's ids go to
# $dir/seen.LIMIT; sets PAGES.  Checks each page's status, shape and Link format.
walk() {
	local limit=$1 path="/users?limit=$1" link next page=0 bad_link=0 bad_page=0 bad_size=0
	: >"$dir/seen.$limit"
	: >"$dir/items.$limit"
	while [[ -n $path ]]; do
		page=$((page + 1))
		if ((page > 400)); then
			fail "GET /users?limit=$limit: more than 400 pages, the Link chain does not end"
			break
		fi
		req GET "$path"
		if [[ $STATUS != 200 ]] || ! jqr 'type == "array"' | grep -qx true; then
			fail "GET $path: expected 200 with a JSON array (page $page)"
			bad_page=1
			break
		fi
		if ! jqr "length <= $limit" | grep -qx true; then
			fail "GET $path: expected at most $limit items, got $(jqr length)"
			bad_size=1
		fi
		jqr '.[].id' >>"$dir/seen.$limit"
		jqr '.[] | {id, email, n, bl: (.bio // "" | length)}' >>"$dir/items.$limit"
		next=""
		if link=$(hdr Link); then
			if [[ $link =~ ^\<(/users\?limit=$limit\&cursor=[^\>]+)\>\;\ *rel=\"next\"$ ]]; then
				next=${BASH_REMATCH[1]}
				printf '%s\n' "$next" >>"$dir/links.$limit"
			else
				fail "GET $path: expected Link '</users?limit=$limit&cursor=...>; rel=\"next\"', got '$link'"
				bad_link=1
			fi
		fi
		path=$next
	done
	((bad_page == 0)) && pass "GET /users?limit=$limit: $page pages, all 200 JSON arrays"
	((bad_link == 0)) && pass "GET /users?limit=$limit: every Link header is well formed"
	((bad_size == 0)) && pass "GET /users?limit=$limit: no page exceeds $limit items"
}

# verify LIMIT: every created id seen exactly once, no duplicates, no internal items.
verify() {
	local limit=$1 missing dups internal
	missing=$(sort "$dir/ids" | comm -23 - <(sort -u "$dir/seen.$limit") | wc -l)
	dups=$(sort "$dir/seen.$limit" | uniq -d | wc -l)
	internal=$(jq -c 'select((.email | type) != "string" or ((.id // "") | test("^email#")) or ((.id // "") | test("'"$UUID_RE"'") | not))' \
		"$dir/items.$limit" | head -3)
	REQ_DESC="GET /users?limit=$limit (all pages)" STATUS=200 BODY=""
	check "limit=$limit: all 66 created users listed (missing: $missing)" test "$missing" -eq 0
	check "limit=$limit: no user listed twice (duplicated ids: $dups)" test "$dups" -eq 0
	check "limit=$limit: no guard/internal item listed (offending: ${internal:-none})" test -z "$internal"
	local bl
	bl=$(jq -r 'select(.bl > 0) | .bl' "$dir/items.$limit" | sort -u | tr '\n' ' ')
	check "limit=$limit: the 20 KB bios come back whole (bio lengths seen: ${bl:-none}, expected 20000)" \
		test "$bl" = "20000 "
}

walk 7
verify 7
total=$(wc -l <"$dir/seen.7")

walk 100
verify 100
REQ_DESC="GET /users?limit=100 (all pages)"
check "limit=100 lists the same ids as limit=7 ($(wc -l <"$dir/seen.100") vs $total)" \
	cmp -s <(sort "$dir/seen.7") <(sort "$dir/seen.100")

# Default limit is 50.
req GET /users
expect_status 200 "list without a limit"
expect_jq 'type == "array" and length <= 50' "default limit is 50"
expect_header Link '^</users\?limit=50&cursor=[^>]+>; *rel="next"$' "more than 50 users exist, so a next link with limit=50"

req GET '/users?limit=1'
expect_status 200 "limit=1 is valid"
expect_json length 1 "limit=1 gives one user"
expect_header Link 'rel="next"' "limit=1 with many users has a next link"
cursor_link=$(hdr Link)

for bad in 0 101 abc -1 1.5 1e2; do
	req GET "/users?limit=$bad"
	expect_error 400 invalid_query "limit='$bad'"
done

# ---- cursors -------------------------------------------------------------------------
cursor=${cursor_link#*cursor=}
cursor=${cursor%%>*}
# flip one alphanumeric character near the middle
pos=$((${#cursor} / 2))
while ((pos < ${#cursor})) && [[ ! ${cursor:pos:1} =~ [A-Za-z0-9] ]]; do pos=$((pos + 1)); done
c=${cursor:pos:1}
if [[ $c == A ]]; then r=B; else r=A; fi
tampered=${cursor:0:pos}$r${cursor:pos+1}
req GET "/users?limit=1&cursor=$cursor"
expect_status 200 "the untouched cursor works"
req GET "/users?limit=1&cursor=$tampered"
expect_error 400 invalid_cursor "cursor with one character flipped"
req GET "/users?limit=1&cursor=${cursor}x"
expect_error 400 invalid_cursor "cursor with a character appended"
req GET "/users?limit=1&cursor=${cursor:0:${#cursor}-4}"
expect_error 400 invalid_cursor "truncated cursor"
req GET '/users?limit=5&cursor=garbage!!'
expect_error 400 invalid_cursor "garbage cursor"
req GET "/users?cursor=$(printf '{"id":"x"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')"
expect_error 400 invalid_cursor "forged base64 JSON cursor"

rm -rf "$dir"
