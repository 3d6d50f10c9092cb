-- Straight to a DynamoDB backend: the GetItem usersvc sends for GET /users/{id}, with headers of a
-- SigV4-signed request of the same size (the backends ignore signatures).
local c = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.GetItem"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/dynamodb/aws4_request, " ..
  "SignedHeaders=content-type;host;x-amz-date;x-amz-target, " ..
  "Signature=0000000000000000000000000000000000000000000000000000000000000000"
wrk.body = '{"TableName":"users","Key":{"id":{"S":"' .. c.user_id .. '"}},"ConsistentRead":false}'
