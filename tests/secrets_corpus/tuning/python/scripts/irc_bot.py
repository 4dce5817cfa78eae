import socket
import ssl

IRC_SERVER = "irc.libera.chat"
IRC_PORT = 6697
IRC_NICK = "bookshelf-bot"
IRC_PASS = "⟦password⟧"
IRC_CHANNEL = "#bookshelf-ops"


def connect():
    sock = ssl.create_default_context().wrap_socket(socket.socket(), server_hostname=IRC_SERVER)
    sock.connect((IRC_SERVER, IRC_PORT))
    sock.send(f"PASS {IRC_PASS}\r\n".encode())
    sock.send(f"NICK {IRC_NICK}\r\n".encode())
    return sock
