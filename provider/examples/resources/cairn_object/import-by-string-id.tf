import {
  to = cairn_object.robots
  id = "public-site/robots.txt"
}
