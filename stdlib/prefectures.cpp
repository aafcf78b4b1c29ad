#include "stdlib/prefectures.hpp"

namespace okuri::stdlib {

const std::vector<Prefecture>& prefectures() {
  static const std::vector<Prefecture> list = {
      {1, "hokkaido", "北海道"},   {2, "aomori", "青森県"},     {3, "iwate", "岩手県"},
      {4, "miyagi", "宮城県"},     {5, "akita", "秋田県"},      {6, "yamagata", "山形県"},
      {7, "fukushima", "福島県"},  {8, "ibaraki", "茨城県"},    {9, "tochigi", "栃木県"},
      {10, "gunma", "群馬県"},     {11, "saitama", "埼玉県"},   {12, "chiba", "千葉県"},
      {13, "tokyo", "東京都"},     {14, "kanagawa", "神奈川県"}, {15, "niigata", "新潟県"},
      {16, "toyama", "富山県"},    {17, "ishikawa", "石川県"},  {18, "fukui", "福井県"},
      {19, "yamanashi", "山梨県"}, {20, "nagano", "長野県"},    {21, "gifu", "岐阜県"},
      {22, "shizuoka", "静岡県"},  {23, "aichi", "愛知県"},     {24, "mie", "三重県"},
      {25, "shiga", "滋賀県"},     {26, "kyoto", "京都府"},     {27, "osaka", "大阪府"},
      {28, "hyogo", "兵庫県"},     {29, "nara", "奈良県"},      {30, "wakayama", "和歌山県"},
      {31, "tottori", "鳥取県"},   {32, "shimane", "島根県"},   {33, "okayama", "岡山県"},
      {34, "hiroshima", "広島県"}, {35, "yamaguchi", "山口県"}, {36, "tokushima", "徳島県"},
      {37, "kagawa", "香川県"},    {38, "ehime", "愛媛県"},     {39, "kochi", "高知県"},
      {40, "fukuoka", "福岡県"},   {41, "saga", "佐賀県"},      {42, "nagasaki", "長崎県"},
      {43, "kumamoto", "熊本県"},  {44, "oita", "大分県"},      {45, "miyazaki", "宮崎県"},
      {46, "kagoshima", "鹿児島県"}, {47, "okinawa", "沖縄県"},
  };
  return list;
}

std::optional<std::string_view> canonical_prefecture(std::string_view s) {
  if (s == "hyougo") return "hyogo";
  if (s == "kouchi") return "kochi";
  for (const auto& p : prefectures()) {
    if (p.name == s) return p.name;
  }
  return std::nullopt;
}

const std::vector<std::string_view>& prefecture_spellings() {
  static const std::vector<std::string_view> list = [] {
    std::vector<std::string_view> v;
    for (const auto& p : prefectures()) v.push_back(p.name);
    v.push_back("hyougo");
    v.push_back("kouchi");
    return v;
  }();
  return list;
}

}  // namespace okuri::stdlib
