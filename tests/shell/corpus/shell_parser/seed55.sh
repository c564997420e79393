echo $(ls $(echo a)) "$(cat <f)" | wc -l && X=$(false) || echo $?
