#include "stdlib/japanese_names.hpp"

#include <string>
#include <utility>

#include "stdlib/prefectures.hpp"

namespace okuri::stdlib {
namespace {

using Pairs = std::initializer_list<std::pair<std::string_view, std::string_view>>;

std::optional<std::string_view> find(Pairs pairs, std::string_view word) {
  for (const auto& [ja, en] : pairs) {
    if (ja == word) return en;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> english_name(JapaneseKind kind, std::string_view w) {
  switch (kind) {
    case JapaneseKind::Gender:
      return find({{"男性", "male"}, {"男", "male"}, {"女性", "female"}, {"女", "female"}, {"その他", "other"}}, w);
    case JapaneseKind::Region:
      // 東京都 and 東京, 大阪府 and 大阪, 北海道.
      for (const auto& p : prefectures()) {
        if (p.kanji == w) return p.name;
        if (p.kanji.size() > 3 && p.kanji.substr(0, p.kanji.size() - 3) == w) return p.name;
      }
      return std::nullopt;
    case JapaneseKind::Weekday: {
      static constexpr std::pair<std::string_view, std::string_view> kDays[] = {
          {"月", "mon"}, {"火", "tue"}, {"水", "wed"}, {"木", "thu"}, {"金", "fri"}, {"土", "sat"}, {"日", "sun"}};
      for (const auto& [ja, en] : kDays) {
        if (w == ja || w == std::string(ja) + "曜" || w == std::string(ja) + "曜日") return en;
      }
      return std::nullopt;
    }
    case JapaneseKind::Event:
      return find({{"友だち追加", "friend_added"},
                   {"友達追加", "friend_added"},
                   {"友だち登録", "friend_added"},
                   {"ブロック", "friend_blocked"},
                   {"ブロック解除", "friend_unblocked"},
                   {"メッセージ受信", "message_received"},
                   {"ポストバック", "postback"},
                   {"リンククリック", "link_clicked"},
                   {"開封", "message_opened"},
                   {"フォーム回答", "form_submitted"},
                   {"タグ追加", "tag_added"},
                   {"タグ削除", "tag_removed"}},
                  w);
    case JapaneseKind::Plan:
      return find({{"フリー", "free"},
                   {"無料", "free"},
                   {"コミュニケーション", "free"},
                   {"コミュニケーションプラン", "free"},
                   {"ライト", "light"},
                   {"ライトプラン", "light"},
                   {"スタンダード", "standard"},
                   {"スタンダードプラン", "standard"}},
                  w);
    case JapaneseKind::Attribute:
      return find({{"性別", "gender"},
                   {"年齢", "age"},
                   {"地域", "region"},
                   {"都道府県", "region"},
                   {"住所", "region"},
                   {"スコア", "score"},
                   {"表示名", "display_name"},
                   {"名前", "display_name"},
                   {"言語", "language"},
                   {"流入経路", "source"},
                   {"友だち期間", "friend_days"},
                   {"今日", "today"},
                   {"現在", "now"}},
                  w);
  }
  return std::nullopt;
}

}  // namespace okuri::stdlib
