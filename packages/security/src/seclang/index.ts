export { parseCookies, parseQuery } from './args.js'
export { type BodyResult, flattenJson, parseMultipart, parseXml } from './body.js'
export { enableLinearRegexFallback } from './linear.js'
export { compileMacro, type Macro, type MacroHost } from './macro.js'
export {
  compileOperator,
  type InjectionDetectors,
  type Operator,
  OperatorError,
  SUPPORTED_OPERATORS,
} from './operators.js'
export { type Directive, parseActionList, parseDirectives, SecLangError } from './parser.js'
export { compilePcre, PcreError, type TranslatedRegex, translatePcre } from './pcre.js'
export { PhraseMatcher } from './phrase-matcher.js'
export {
  type CompileOptions,
  compileRuleSet,
  type EngineMode,
  type Rule,
  type RuleSet,
  type RuleSource,
} from './ruleset.js'
export {
  type Interruption,
  type MatchedRule,
  type RequestInfo,
  Transaction,
  type TransactionLimits,
} from './transaction.js'
export { TRANSFORMATIONS, type Transformation } from './transformations.js'
export { type Entry, type Exclusion, parseVariables, type Target } from './variables.js'
