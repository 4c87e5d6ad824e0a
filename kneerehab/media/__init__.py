"""Exercise pictures and videos: checking an upload by its content, cleaning it and serving it.

Below the domain apps (conditions and plans both keep media); it imports none of them.
"""
