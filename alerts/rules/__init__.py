"""The rule engine: which signals start an investigation, which are recorded, which are noise.

`conditions` defines fields and operators and compiles conditions (RE2 regexes, linear time);
`engine` evaluates silences then rules in order (first match decides) and explains the decision;
`loader` caches each organization's compiled rule set per version.
"""
