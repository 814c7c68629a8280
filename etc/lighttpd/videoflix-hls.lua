-- videoflix-hls.lua -- lighttpd mod_magnet: serve validly signed HLS segments without the
-- application (lighttpd 1.4.68+ has no mod_secdownload; this is its replacement for us).
--
-- A template like videoflix.conf: replace the two placeholders below with the
-- application's MEDIA_SIGNING_KEY (at least 32 characters, or nothing is ever accepted)
-- and its comma-separated CORS_ALLOWED_ORIGINS.  mod_magnet must come before
-- mod_fastcgi in server.modules (both act at the same stage).
--
-- The playlist the application returns lists "000.ts?e=<expiry>&s=<signature>" where
--     signature = lower-hex HMAC-SHA256(key, "<expiry>|<uri>|<client address>")
-- (lib/urlsig.h, URLSIG_LIGHTTPD).  A valid request is mapped onto the internal prefix
-- /_vf_signed_hls/ that videoflix.conf aliases to MEDIA_ROOT/hls/, and lighttpd serves
-- the file itself (Range, HEAD, sendfile).  Anything else -- unsigned, expired, altered,
-- another video's or another client's signature -- is left untouched and falls through
-- to the application's cookie-checked route.

local key = "@MEDIA_SIGNING_KEY@"
local origins_csv = "@CORS_ALLOWED_ORIGINS@"
local internal = "/_vf_signed_hls/"

local r = lighty.r
local c = lighty.c
local path = r.req_attr["uri.path"] or ""

-- Clients never reach the internal prefix directly.
if path:sub(1, #internal) == internal then
    return 404
end

local id, res, seg = path:match("^/api/video/([1-9]%d*)/(%d+p)/(%d+%.ts)$")
if not id or #key < 32 or #id > 18 or #seg > 12 then
    return 0
end
if res ~= "480p" and res ~= "720p" and res ~= "1080p" then
    return 0
end

local q = r.req_attr["uri.query"]
if not q then
    return 0
end
local e, s
for k, v in q:gmatch("([^&=]+)=([^&]*)") do
    if k == "e" then
        if e then return 0 end
        e = v
    elseif k == "s" then
        if s then return 0 end
        s = v
    end
end
if not e or not s or not e:match("^%d+$") or #e > 15 or #s ~= 64 then
    return 0
end
if tonumber(e) < c.time() then
    return 0
end

local addr = r.req_attr["request.remote-addr"] or ""
local want = string.lower(c.hmac("sha256", key, e .. "|" .. path .. "|" .. addr))
if not c.secret_eq(want, s) then
    return 0
end

r.req_attr["uri.path"] = internal .. id .. "/" .. res .. "/" .. seg
-- Headers are set here: conditionals on the original URL (/api/) stay in force after the
-- rewrite, so the configuration cannot be relied on for them.
local h = r.resp_header
h["Content-Type"] = "video/MP2T"
h["Cache-Control"] = "private, max-age=86400, immutable"
h["X-Content-Type-Options"] = "nosniff"
h["X-Frame-Options"] = "DENY"
h["Referrer-Policy"] = "same-origin"

local origin = r.req_header["Origin"]
if origin then
    for o in origins_csv:gmatch("[^,%s]+") do
        if o == origin then
            h["Access-Control-Allow-Origin"] = origin
            h["Access-Control-Allow-Credentials"] = "true"
            break
        end
    end
end
h["Vary"] = "Origin"
return 0
