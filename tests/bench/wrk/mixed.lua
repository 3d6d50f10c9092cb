-- 70% GET by id, 10% GET by email, 10% PATCH, 10% POST (unique email), as a fixed
-- interleaved cycle of 10 per connection-thread so the mix is exact in every run.
local c = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
local get_id, get_email, patch
local cycle = { "id", "id", "email", "id", "patch", "id", "id", "post", "id", "id" }
local i = 0

function init(args)
  get_id = wrk.format("GET", "/users/" .. c.user_id, c.headers())
  get_email = wrk.format("GET", "/users?email=" .. c.email, c.headers())
  patch = c.patch_request()
end

function request()
  i = i % #cycle + 1
  local k = cycle[i]
  if k == "id" then return get_id end
  if k == "email" then return get_email end
  if k == "patch" then return patch end
  return c.post_request()
end
