"""The agreement gate's question: which active agreement covers a placement?"""
