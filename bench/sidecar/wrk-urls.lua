-- wrk script for forward-auth through a proxy: each request is the next line of the file URLS
-- (paths with their query: SigV4 presigned URLs, one per principal), round robin.
local urls = {}
for line in io.lines(os.getenv("URLS")) do
  urls[#urls + 1] = line
end
local i = 0

request = function()
  i = i % #urls + 1
  return wrk.format("GET", urls[i])
end
