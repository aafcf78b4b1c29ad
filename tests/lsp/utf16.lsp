# An exchange in the default encoding (UTF-16): the mistake on line 6 comes after
# an emoji (a surrogate pair) and Japanese text, so its column is 39 in UTF-16
# units (57 in UTF-8 bytes, 38 in code points).
send {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"rootUri":"$ROOT","capabilities":{}}}
send {"jsonrpc":"2.0","method":"initialized","params":{}}
open scenarios.okuri 1
diagnostics scenarios.okuri 1

# Hover: a tag, a segment (its definition), a built-in event (its fields), event.at.
send {"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":2,"character":7}}}
send {"jsonrpc":"2.0","id":3,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":15,"character":6}}}
send {"jsonrpc":"2.0","id":4,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":8,"character":12}}}
send {"jsonrpc":"2.0","id":5,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":3,"character":30}}}

# Navigation: a message declared in the other file; every use of a tag.
send {"jsonrpc":"2.0","id":6,"method":"textDocument/definition","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":10,"character":10}}}
send {"jsonrpc":"2.0","id":7,"method":"textDocument/references","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":2,"character":7},"context":{"includeDeclaration":true}}}

# Rename across the project's files.
send {"jsonrpc":"2.0","id":8,"method":"textDocument/prepareRename","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":2,"character":7}}}
send {"jsonrpc":"2.0","id":9,"method":"textDocument/rename","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":2,"character":7},"newName":"予約済み"}}
send {"jsonrpc":"2.0","id":10,"method":"textDocument/rename","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":2,"character":7},"newName":"and"}}

send {"jsonrpc":"2.0","id":11,"method":"textDocument/documentSymbol","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"}}}
send {"jsonrpc":"2.0","id":12,"method":"textDocument/formatting","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"options":{"tabSize":2,"insertSpaces":true}}}
send {"jsonrpc":"2.0","id":13,"method":"textDocument/semanticTokens/full","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"}}}
send {"jsonrpc":"2.0","id":14,"method":"textDocument/codeAction","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"range":{"start":{"line":5,"character":39},"end":{"line":5,"character":39}},"context":{"diagnostics":[]}}}

# A request cancelled right after it was sent is answered with RequestCancelled;
# the next one is answered normally.
batch
send {"jsonrpc":"2.0","id":20,"method":"textDocument/documentSymbol","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"}}}
send {"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":20}}
send {"jsonrpc":"2.0","id":21,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":10,"character":10}}}
end

# Unknown methods, params of the wrong shape, and bytes that are not a message.
send {"jsonrpc":"2.0","id":22,"method":"textDocument/unknownThing","params":{}}
send {"jsonrpc":"2.0","id":23,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":"two"}}}
raw Content-Length: 5\r\n\r\n{bad}
raw no header here\r\n\r\n

# Incremental edits, then completion on text that no longer parses.
change scenarios.okuri 2 [{"range":{"start":{"line":11,"character":0},"end":{"line":11,"character":0}},"text":"  send \n"}]
send {"jsonrpc":"2.0","id":30,"method":"textDocument/completion","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":11,"character":7}}}
change scenarios.okuri 3 [{"range":{"start":{"line":11,"character":2},"end":{"line":11,"character":7}},"text":"stop when tagged("}]
send {"jsonrpc":"2.0","id":31,"method":"textDocument/completion","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":11,"character":19}}}
change scenarios.okuri 4 [{"range":{"start":{"line":18,"character":0},"end":{"line":18,"character":0}},"text":"on "}]
send {"jsonrpc":"2.0","id":32,"method":"textDocument/completion","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":18,"character":3}}}
send {"jsonrpc":"2.0","id":33,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":10,"character":10}}}
diagnostics scenarios.okuri 4

send {"jsonrpc":"2.0","id":40,"method":"shutdown"}
send {"jsonrpc":"2.0","id":41,"method":"textDocument/hover","params":{"textDocument":{"uri":"$ROOT/scenarios.okuri"},"position":{"line":0,"character":0}}}
exit
