#include "shim/streaming/spdy.h"

#include <zlib.h>

#include <gtest/gtest.h>

namespace berth::shim::spdy {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// A control frame around a payload, written by hand (the format, not our writer).
std::string control(std::uint16_t type, std::uint8_t flags, std::string_view payload) {
  std::string f = {'\x80',
                   '\x03',
                   static_cast<char>(type >> 8),
                   static_cast<char>(type),
                   static_cast<char>(flags),
                   static_cast<char>(payload.size() >> 16),
                   static_cast<char>(payload.size() >> 8),
                   static_cast<char>(payload.size())};
  return f + std::string(payload);
}

TEST(Spdy, DictionaryIsSpdy3s) {
  auto d = headerDictionary();
  EXPECT_EQ(d.size(), 1423u);
  // zlib streams name their dictionary by its Adler-32: a peer's header blocks carry this id.
  EXPECT_EQ(adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef*>(d.data()),
                    static_cast<uInt>(d.size())),
            0xe3c6a7c2u);
}

TEST(Spdy, ReadsHeaderBlocksCompressedByAnotherZlib) {
  // Two SYN_STREAMs whose header blocks came from Python's zlib with the SPDY dictionary, in one
  // compression context, as a client writes them.
  FrameReader r;
  std::string stream1 = std::string("\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10) +
                        unhex("78f9e3c6a7c202a62346703a2b294a4dcc851625c0149b925f5a02000000ffff");
  std::string stream3 = std::string("\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00", 10) +
                        unhex("02e51c0c39d654502480b455808b50862400000000ffff");
  r.feed(control(1, 0, stream1) + control(1, kFlagFin, stream3));
  auto f1 = r.next();
  ASSERT_TRUE(f1 && *f1) << (f1 ? "need more" : f1.error().message());
  EXPECT_EQ((*f1)->type, FrameType::kSynStream);
  EXPECT_EQ((*f1)->streamId, 1u);
  EXPECT_EQ(findHeader((*f1)->headers, "streamtype"), "stdout");
  auto f3 = r.next();
  ASSERT_TRUE(f3 && *f3);
  EXPECT_EQ((*f3)->streamId, 3u);
  EXPECT_TRUE((*f3)->fin());
  EXPECT_EQ(findHeader((*f3)->headers, "streamtype"), "error");
  EXPECT_EQ(findHeader((*f3)->headers, "x"), std::string_view("a\0b", 3));
  auto none = r.next();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(Spdy, EveryFrameRoundTripsEvenWhenFedByteByByte) {
  FrameWriter w;
  // One statement each: the header blocks share a compression context, so order matters.
  std::string wire = w.synStream(5, {{"streamtype", "stdin"}});
  wire += w.synReply(5, {}, kFlagFin);
  wire += FrameWriter::data(5, "hello", kFlagFin);
  wire += FrameWriter::rstStream(7, kCancel);
  wire += FrameWriter::ping(9);
  wire += w.headers(5, {{"a", "b"}});
  wire += FrameWriter::windowUpdate(5, 100);
  wire += FrameWriter::goAway(5);
  wire += FrameWriter::data(3, std::string(70000, 'x'));
  FrameReader r;
  std::vector<Frame> frames;
  for (char c : wire) {
    r.feed(std::string_view(&c, 1));
    auto f = r.next();
    ASSERT_TRUE(f) << "after " << frames.size() << " frames: " << f.error().message();
    if (*f) frames.push_back(std::move(**f));
  }
  ASSERT_EQ(frames.size(), 9u);
  EXPECT_EQ(frames[0].type, FrameType::kSynStream);
  EXPECT_EQ(findHeader(frames[0].headers, "streamtype"), "stdin");
  EXPECT_EQ(frames[1].type, FrameType::kSynReply);
  EXPECT_TRUE(frames[1].fin());
  EXPECT_TRUE(frames[1].headers.empty());
  EXPECT_EQ(frames[2].type, FrameType::kData);
  EXPECT_EQ(frames[2].data, "hello");
  EXPECT_TRUE(frames[2].fin());
  EXPECT_EQ(frames[3].type, FrameType::kRstStream);
  EXPECT_EQ(frames[3].status, kCancel);
  EXPECT_EQ(frames[4].pingId, 9u);
  EXPECT_EQ(findHeader(frames[5].headers, "a"), "b");
  EXPECT_EQ(frames[6].deltaWindowSize, 100u);
  EXPECT_EQ(frames[7].type, FrameType::kGoAway);
  EXPECT_EQ(frames[7].lastGoodStreamId, 5u);
  EXPECT_EQ(frames[8].data.size(), 70000u);
}

TEST(Spdy, MalformedFramesAreErrors) {
  struct Case {
    std::string wire;
    const char* want;
  } cases[] = {
      {std::string("\x80\x02\x00\x01\x00\x00\x00\x00", 8), "unsupported version 2"},
      {control(0x55, 0, ""), "unknown control frame type 85"},
      {control(3, 0, "abc"), "too short"},
      {std::string("\x00\x00\x00\x00\x00\x00\x00\x01x", 9), "data frame on stream 0"},
      {std::string("\x00\x00\x00\x01\x00\xff\xff\xff", 8), "too large"},
      {control(1, 0, std::string("\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00garbage", 17)),
       "corrupt header block"},
  };
  for (const auto& c : cases) {
    FrameReader r;
    r.feed(c.wire);
    auto f = r.next();
    ASSERT_FALSE(f) << c.want;
    EXPECT_NE(f.error().message().find(c.want), std::string::npos) << f.error().message();
  }
}

}  // namespace
}  // namespace berth::shim::spdy
