// The reference side of tests/formats/json5_differential.rs: one long-lived process that reads one
// case per line (a JSON-encoded string: the text to parse) and answers one line per case,
// `ok <canonical value>` or `err <json5's message>`. The canonical form is also built by
// the Rust test from our reader's value, so equal lines mean equal values:
//   n t f · d<16 hex digits of the float64 bits> or dNaN · "<4 hex digits per UTF-16 unit>"
//   [a,b] · {"key":value,...} in Object.keys order (JavaScript's own key order).
// Usage: node tests/support/json5_oracle.js <path to node_modules/json5>
const JSON5 = require(process.argv[2])
const dv = new DataView(new ArrayBuffer(8))
function str (s) {
    let out = '"'
    for (let i = 0; i < s.length; i++) out += s.charCodeAt(i).toString(16).padStart(4, '0')
    return out + '"'
}
function canon (v) {
    if (v === null) return 'n'
    if (v === true) return 't'
    if (v === false) return 'f'
    if (typeof v === 'number') {
        if (Number.isNaN(v)) return 'dNaN'
        dv.setFloat64(0, v)
        let h = 'd'
        for (let i = 0; i < 8; i++) h += dv.getUint8(i).toString(16).padStart(2, '0')
        return h
    }
    if (typeof v === 'string') return str(v)
    if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']'
    return '{' + Object.keys(v).map(k => str(k) + ':' + canon(v[k])).join(',') + '}'
}
// json5 warns on U+2028/U+2029 in strings; keep stdout for answers only.
console.warn = () => {}
let pending = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', chunk => {
    pending += chunk
    let nl
    const out = []
    while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        const text = JSON.parse(line)
        try {
            out.push('ok ' + canon(JSON5.parse(text)))
        } catch (e) {
            out.push('err ' + String(e.message).replace(/\n/g, '\\n'))
        }
    }
    if (out.length) process.stdout.write(out.join('\n') + '\n')
})
