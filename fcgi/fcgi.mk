## fcgi/fcgi.mk -- the FastCGI responder (prefork master + workers) and its health handler.
