-- wrk script for the sidecar's HTTP ext_authz mode: each request is a different generated principal
-- (user0 … user{PRINCIPALS-1}, round robin) reading its own home folder, over "TLS" as Envoy reports it.
local n = tonumber(os.getenv("PRINCIPALS") or "1000")
local i = 0

request = function()
  i = (i + 1) % n
  return wrk.format("GET", "/buckets/amzn-s3-demo-bucket/objects/home/user" .. i .. "/notes.txt", {
    ["Host"] = "storage.example.com",
    ["x-forwarded-proto"] = "https",
    ["x-iamlet-principal"] = "arn:aws:iam::111122223333:user/user" .. i,
  })
end
