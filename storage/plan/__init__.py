"""The plan's language: what an operator writes in the configuration folder and the
words the bot speaks. Hierarchy levels, indicators and formulas, forms and their checks,
targets, periods and terms, roles, the thi đua rule; loading and checking the YAML files;
the Vietnamese message catalogue (texts_vi) and text handling (folding, Vietnamese order).

Pure Python and pydantic: no database. May import: nothing else of storage (only plan/).
A change to what an operator may write, or to a text users see, goes here.
"""
