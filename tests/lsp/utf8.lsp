# An exchange in UTF-8 positions: the client offers "utf-8", the server takes it,
# and every column counts bytes. The mistake on line 6 is at byte column 57.
send {"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":0,"character":0}}}
send {"jsonrpc":"2.0","id":2,"method":"initialize","params":{"rootUri":"$ROOT","capabilities":{"general":{"positionEncodings":["utf-8","utf-16"]}}}}
send {"jsonrpc":"2.0","method":"initialized","params":{}}
open scenarios.okuri 1
diagnostics scenarios.okuri 1

# The step 再送 in `goto 再送`, after Japanese text on its line.
send {"jsonrpc":"2.0","id":3,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":15,"character":47}}}
send {"jsonrpc":"2.0","id":4,"method":"textDocument/definition","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":15,"character":47}}}
# The uses of a segment, without its declaration.
send {"jsonrpc":"2.0","id":5,"method":"textDocument/references","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":15,"character":6},"context":{"includeDeclaration":false}}}

# Completion of a set field's values: `has(関心, ` after deleting ピアノ, then after typing ギ.
change scenarios.okuri 2 [{"range":{"start":{"line":15,"character":28},"end":{"line":15,"character":37}},"text":""}]
send {"jsonrpc":"2.0","id":6,"method":"textDocument/completion","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":15,"character":28}}}
change scenarios.okuri 3 [{"range":{"start":{"line":15,"character":28},"end":{"line":15,"character":28}},"text":"ギ"}]
send {"jsonrpc":"2.0","id":7,"method":"textDocument/completion","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":15,"character":31}}}
diagnostics scenarios.okuri 3
send {"jsonrpc":"2.0","id":8,"method":"textDocument/codeAction","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"range":{"start":{"line":5,"character":0},"end":{"line":5,"character":70}},"context":{"diagnostics":[]}}}

# The end of input without shutdown: exit status 1.
exit
