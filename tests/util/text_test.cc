// Printable: text from files is shown, never obeyed by the terminal (hand-written cases).
#include "util/text.h"

#include <gtest/gtest.h>

#include <string>

using kws::Printable;

TEST(Printable, ControlCharactersBecomeVisibleEscapes) {
  EXPECT_EQ(Printable("yes"), "yes");
  EXPECT_EQ(Printable(""), "");
  EXPECT_EQ(Printable("a\nb"), "a\\x0ab");
  EXPECT_EQ(Printable("no\x1b[2K\rYES"), "no\\x1b[2K\\x0dYES");
  EXPECT_EQ(Printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Printable("tab\there\x7f"), "tab\\x09here\\x7f");
}

TEST(Printable, Utf8StaysC1AndBidiOverridesAndBadBytesAreEscaped) {
  EXPECT_EQ(Printable("s\xc3\xad \xe2\x82\xac \xf0\x9f\x8e\xa4"), "s\xc3\xad \xe2\x82\xac \xf0\x9f\x8e\xa4");  // sí € 🎤
  EXPECT_EQ(Printable("\xc2\x9b" "31m"), "\\xc2\\x9b31m");       // U+009B, the one-character CSI
  EXPECT_EQ(Printable("\xe2\x80\xae" "sey"), "\\xe2\\x80\\xaesey");  // U+202E right-to-left override
  EXPECT_EQ(Printable("\xe2\x81\xa6x"), "\\xe2\\x81\\xa6x");          // U+2066 left-to-right isolate
  EXPECT_EQ(Printable("\x9b"), "\\x9b");                            // a lone continuation byte
  EXPECT_EQ(Printable("\xc3"), "\\xc3");                            // a cut sequence
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");                   // an overlong '/'
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");          // a UTF-16 surrogate
  EXPECT_EQ(Printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // beyond U+10FFFF
}
