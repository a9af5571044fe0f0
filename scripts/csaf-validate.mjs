// Runs the CSAF 2.0 schema test and every mandatory test (CSAF 2.0 section 6.1) of
// @secvisogram/csaf-validator-lib (BSI's Secvisogram project, MIT) on CSAF documents.
// Usage: node scripts/csaf-validate.mjs DIR FILE...  where DIR holds node_modules with the
// library (scripts/validate-vex.sh installs it under target/tools/csaf-validator).
// Exits 1 when a document fails, printing each failed test with its errors.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [dir, ...files] = process.argv.slice(2)
if (!dir || files.length === 0) {
  console.error('usage: node csaf-validate.mjs DIR FILE...')
  process.exit(2)
}
const lib = path.resolve(dir, 'node_modules/@secvisogram/csaf-validator-lib')
const load = (name) => import(pathToFileURL(path.join(lib, name)).href)
const validateStrict = (await load('validateStrict.js')).default
const schema = await load('schemaTests.js')
const mandatory = await load('mandatoryTests.js')
const tests = [...Object.values(schema), ...Object.values(mandatory)]

let failed = 0
for (const file of files) {
  const document = JSON.parse(await readFile(file, 'utf8'))
  const result = await validateStrict(tests, document)
  if (result.isValid) {
    console.log(`OK ${file}: ${result.tests.length} tests (schema and mandatory)`)
  } else {
    failed += 1
    for (const test of result.tests.filter((t) => !t.isValid)) {
      console.log(`FAIL ${file}: ${test.name}: ${JSON.stringify(test.errors)}`)
    }
  }
}
process.exit(failed ? 1 : 0)
