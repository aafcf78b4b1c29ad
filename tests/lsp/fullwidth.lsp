# Typing with a Japanese input method still on: the full-width parenthesis is named in
# the diagnostic, and the quick fix (a code action from the diagnostic's fix-it) writes
# the ASCII ones, the closing parenthesis included.
send {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"rootUri":"$ROOT","capabilities":{}}}
send {"jsonrpc":"2.0","method":"initialized","params":{}}
open scenarios.okuri 1
diagnostics scenarios.okuri 1
change scenarios.okuri 2 [{"range":{"start":{"line":17,"character":0},"end":{"line":17,"character":0}},"text":"segment 予約者 = tagged（予約中）\n"}]
diagnostics scenarios.okuri 2
send {"jsonrpc":"2.0","id":2,"method":"textDocument/codeAction","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"range":{"start":{"line":17,"character":0},"end":{"line":17,"character":30}},"context":{"diagnostics":[]}}}
send {"jsonrpc":"2.0","id":3,"method":"shutdown"}
send {"jsonrpc":"2.0","method":"exit"}
