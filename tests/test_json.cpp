// The JSON reader: values, nesting, escapes, dotted paths, and errors that name line and column.
#include "test_support.h"
#include "wm/error.h"
#include "wm/io/json.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

TEST(Json, ParsesEveryKindOfValue) {
  auto value = io::json::parse(R"({"id": "74225", "n": -1.5e2, "ok": true, "none": null,
                               "list": [1, [2, {"x": "y"}]], "text": "tab\there \"q\" \u00e9 \ud83d\ude00"})");
  EXPECT_EQ(value.find("id")->as_string(), "74225");
  EXPECT_DOUBLE_EQ(value.find("n")->as_number(), -150.0);
  EXPECT_TRUE(value.find("ok")->as_bool());
  EXPECT_TRUE(value.find("none")->is_null());
  EXPECT_EQ(value.find("list")->items()[1].items()[1].find("x")->as_string(), "y");
  EXPECT_EQ(value.find("text")->as_string(), "tab\there \"q\" \xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(value.members().front().first, "id") << "members keep file order";
}

TEST(Json, FindsDottedPathsThroughNestedObjects) {
  auto record = io::json::parse(R"({"mouse": {"dx": 3, "buttons": [0]}, "camera.yaw": 1.5})");
  EXPECT_EQ(record.find_path("mouse.dx")->as_number(), 3);
  EXPECT_EQ(record.find_path("camera.yaw")->as_number(), 1.5) << "a member named with a dot";
  EXPECT_EQ(record.find_path("mouse.dz"), nullptr);
  EXPECT_EQ(io::json::parse("[1]").find("a"), nullptr);
}

TEST(Json, NumbersPrintAsIntegersWhenIntegral) {
  EXPECT_EQ(io::json::parse("3").to_text(), "3");
  EXPECT_EQ(io::json::parse("2.5").to_text(), "2.5");
  EXPECT_EQ(io::json::parse("\"key.keyboard.w\"").to_text(), "key.keyboard.w");
}

TEST(Json, ErrorsNameSourceLineAndColumn) {
  std::string error = test::error_of([] { io::json::parse("{\n  \"a\": 1,\n  \"b\" 2}", "labels.json"); });
  EXPECT_THAT(error, HasSubstr("labels.json:3:7: expected ':'"));
  EXPECT_THROW(io::json::parse("[1, 2", "x.json"), DataError);
  EXPECT_THAT(test::error_of([] { io::json::parse("{} extra"); }), HasSubstr("unexpected text"));
  EXPECT_THAT(test::error_of([] { io::json::parse("\"abc"); }), HasSubstr("unterminated string"));
  EXPECT_THAT(test::error_of([] { io::json::parse("1").as_string(); }),
              HasSubstr("is a number, expected a string"));
}

TEST(Json, LinesSkipBlanksAndNameTheLine) {
  auto records = io::json::parse_lines("{\"t\": 0}\n\n{\"t\": 1}\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].find("t")->as_number(), 1);
  EXPECT_THAT(test::error_of([] { io::json::parse_lines("{}\n{oops}\n", "a.jsonl"); }),
              HasSubstr("a.jsonl line 2"));
}

}  // namespace
}  // namespace wm
