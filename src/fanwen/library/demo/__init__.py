"""Demo content: original sample articles in <category-slug>/NN.txt and categories.json.

`loader` puts them in the database through the importer (`fanwen demo`).
"""
