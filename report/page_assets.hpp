// The report page's style and script, inlined into every report: it opens from disk with no network.
#pragma once

namespace okuri::report {

const char* page_css();
const char* page_js();

}  // namespace okuri::report
