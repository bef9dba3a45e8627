#pragma once
// OpenSSL's error queue as one message: the oldest error's text (the queue is cleared), or
// "unknown TLS error" when it is empty. For the server's and the backend client's TLS setup.
#include <string>

namespace berth::http {

std::string sslErrorText();

}  // namespace berth::http
