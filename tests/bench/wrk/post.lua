-- POST /users with a unique email per request: "bench-<run>-t<thread>-<n>@example.com".
local c = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
function request()
  return c.post_request()
end
