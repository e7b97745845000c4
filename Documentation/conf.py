# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration for exo's documentation: make htmldocs
# (scripts/htmldocs.sh) builds it into build/htmldocs/.
#
# The kernel-doc directive is the kernel's own Sphinx extension
# (Documentation/sphinx/kerneldoc.py, with scripts/kernel-doc), taken from
# Debian's linux-source-6.1 package into the cache, never copied here:
# scripts/htmldocs.sh extracts it and names its directory in EXO_KSRC_DOCS.
import os
import sys

top = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
ksrc = os.environ.get('EXO_KSRC_DOCS')
if not ksrc or not os.path.isfile(os.path.join(ksrc, 'Documentation', 'sphinx', 'kerneldoc.py')):
    sys.exit("Documentation/conf.py: EXO_KSRC_DOCS must name the directory "
             "holding linux-source-6.1's Documentation/sphinx/kerneldoc.py "
             "and scripts/kernel-doc; build with 'make htmldocs'")
sys.path.insert(0, os.path.join(ksrc, 'Documentation', 'sphinx'))

project = 'exo'
author = 'the exo developers'
with open(os.path.join(top, 'VERSION'), encoding='utf-8') as f:
    version = release = f.read().strip()

extensions = ['kerneldoc']
kerneldoc_bin = os.path.join(ksrc, 'scripts', 'kernel-doc')
kerneldoc_srctree = top
# kernel-doc's own warnings go to stderr; scripts/htmldocs.sh fails on them.
kerneldoc_verbosity = 1

root_doc = 'index'
primary_domain = 'c'
highlight_language = 'none'
exclude_patterns = []
html_title = 'exo ' + version
html_show_sourcelink = False
