// The admin socket protocol shared by the server and aviaryctl. One request per connection,
// each message one line of JSON:
//   request  {"op":"call","category":"account","command":"registerUser","args":{"domain":"localhost",...}}
//            {"op":"list"}                       -> the command catalogue for help texts
//   reply    {"status":0,"result":"<text or JSON text>","usage":false}   status: av_status (0 = OK);
//            usage: true when the call itself was refused (unknown command, bad arguments)
//            {"status":0,"commands":[{"category","name","description","args":[{"name","type","required","description"}]}]}
#pragma once

#include <cstddef>

namespace aviary::ctl {
constexpr size_t kMaxRequest = 1 << 20;  // bytes; longer requests are refused
}
