-- GET /users/{id}: one static request, formatted once by wrk.
local c = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
wrk.method = "GET"
wrk.path = "/users/" .. c.user_id
