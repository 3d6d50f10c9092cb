-- GET /users/{id} with a bearer JWT (RS256, BENCH_TOKEN from the harness): one static request.
local c = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
wrk.method = "GET"
wrk.path = "/users/" .. c.user_id
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
