// The one translation unit that compiles Boost.Asio and its SSL support (separate
// compilation keeps every other file of the tree from re-instantiating them).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
