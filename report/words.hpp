// The report's words, in Japanese and in English: one table, so both pages say the same things.
#pragma once

#include <string>

namespace okuri::report {

struct Words {
  const char* lang;  // the page's `lang` attribute
  const char *title, *period, *events, *friends, *pushes, *replies, *converted, *quota_used;
  const char *overview, *overview_note, *flows, *scenario, *broadcast;
  const char *step, *entered, *passed, *waiting, *left, *completed, *stopped;
  const char* click_node;  // "click a step to see the friends there"
  const char *friends_here, *nobody_here, *sample_of, *open_timeline;
  const char *messages, *messages_note, *sample_friend, *clicks, *blocked_3d, *skipped_blocked, *share_of_allowance,
      *cost;
  const char *ab, *ab_note, *arm, *percent, *delivered, *clicked, *rate, *vs_control, *difference, *control;
  const char *verdict_better, *verdict_worse, *verdict_same, *verdict_small;
  const char *quota, *quota_note, *allowance, *forecast, *month, *free_replies, *over;
  const char *timeline, *timeline_note, *timeline_placeholder, *timeline_none, *timeline_not_sampled;
  const char* notes;
  const char* made_by;
};

const Words& words(bool ja);

}  // namespace okuri::report
