-- PATCH /users/{id} {"name":"Ada King"}: one static request (content type from BENCH_PATCH_CONTENT_TYPE).
local c = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
wrk.method = "PATCH"
wrk.path = "/users/" .. c.user_id
wrk.headers["Content-Type"] = c.patch_content_type
wrk.body = '{"name":"Ada King"}'
