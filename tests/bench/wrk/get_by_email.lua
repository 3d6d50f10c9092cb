-- GET /users?email=E (Query on email-index): one static request.
local c = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
wrk.method = "GET"
wrk.path = "/users?email=" .. c.email
