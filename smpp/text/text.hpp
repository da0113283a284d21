// The SMS text layer in one include: UTF-8 -> GSM 7-bit / Latin-1 / UCS2 (encoder.hpp),
// parts per concatenation method and segment counts (segmenter.hpp), received octets ->
// UTF-8 (decoder.hpp). Pure functions: no I/O, no clocks, no exceptions on bad input.
//
// Sending:
//   encoded_text t;  error_info where;
//   if (auto ec = encode(utf8, encode_opts, t, where)) ...;   // where.offset, where.code_point
//   std::vector<message_part> parts;
//   if (auto ec = split(t, split_opts, reference, parts)) ...;
//   for (auto& p : parts) apply_to(p, submit);               // one submit_sm each, in order
#pragma once

#include "smpp/text/coding.hpp"
#include "smpp/text/decoder.hpp"
#include "smpp/text/encoder.hpp"
#include "smpp/text/error.hpp"
#include "smpp/text/explain.hpp"
#include "smpp/text/gsm7.hpp"
#include "smpp/text/latin1.hpp"
#include "smpp/text/segmenter.hpp"
#include "smpp/text/transliterate.hpp"
#include "smpp/text/ucs2.hpp"
#include "smpp/text/utf8.hpp"
