#include "lib/engine/text_stream.h"

#include "gtest/gtest.h"

namespace hearth {
namespace {

TEST(TextStreamTest, ReleasesOnlyWholeUtf8Characters) {
  TextStream s({});
  // The euro sign is one character in three bytes: E2 82 AC.
  s.Append("a\xE2");
  EXPECT_EQ(s.TakeReady(), "a");
  s.Append("\x82");
  EXPECT_EQ(s.TakeReady(), "");
  s.Append("\xAC");
  EXPECT_EQ(s.TakeReady(), "\xE2\x82\xAC");
}

TEST(TextStreamTest, StopStringAcrossTokensIsCutAndNeverShown) {
  TextStream s({"END"});
  EXPECT_FALSE(s.Append("hello E"));
  EXPECT_EQ(s.TakeReady(), "hello ");  // "E" might start "END"
  EXPECT_FALSE(s.Append("N"));
  EXPECT_EQ(s.TakeReady(), "");
  EXPECT_TRUE(s.Append("D and more"));
  EXPECT_EQ(s.TakeReady(), "");
  EXPECT_EQ(s.text(), "hello ");
  EXPECT_EQ(s.Finish(), "");
}

TEST(TextStreamTest, HeldTextIsReleasedWhenItCannotBeAStop) {
  TextStream s({"END"});
  s.Append("E");
  EXPECT_EQ(s.TakeReady(), "");
  s.Append("x");
  EXPECT_EQ(s.TakeReady(), "Ex");
}

TEST(TextStreamTest, FinishReplacesUnfinishedCharacter) {
  TextStream s({});
  s.Append("ok\xE2\x82");
  EXPECT_EQ(s.TakeReady(), "ok");
  EXPECT_EQ(s.Finish(), "\xEF\xBF\xBD");
  EXPECT_EQ(s.text(), "ok\xEF\xBF\xBD");
}

TEST(TextStreamTest, StopAtVeryStart) {
  TextStream s({"\n\n", "User:"});
  EXPECT_TRUE(s.Append("User: hi"));
  EXPECT_EQ(s.text(), "");
}

}  // namespace
}  // namespace hearth
